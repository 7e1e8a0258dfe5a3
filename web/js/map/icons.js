// Marker images drawn on canvases: one badge per (asset kind, state), one bubble per cluster size.
// The glyphs are the Maki icons bundled with Cesium (Build/Cesium/Assets/Textures/maki): no downloads.
const Cesium = window.Cesium;

export const STATE_CSS = { normal: "#2bc48a", warning: "#f5a524", alarm: "#ff4d4f", offline: "#6b778c" };
export const STATES = ["alarm", "warning", "offline", "normal"]; // worst first

// Asset kind → Maki glyph (the closest of Cesium's 117 bundled ones).
const GLYPH = {
  camera: "camera", alarm_button: "danger", intrusion_detector: "police", access_gate: "entrance",
  parking_barrier: "roadblock", fire_equipment: "fire-station", elevator: "triangle-stroked", meter: "industrial",
  street_lamp: "lighthouse", smart_pole: "rail-light", ev_charger: "fuel", parking_sensor: "parking",
  air_quality_sensor: "wetland", water_quality_sensor: "water", noise_sensor: "music", display_screen: "cinema",
  broadcast_speaker: "theatre", wifi_ap: "mobilephone", cell_5g: "telephone", iot_gateway: "square",
  smart_locker: "post", unmanned_retail: "shop", robot: "rocket",
};
export const BADGE_PX = 30;
const glyphs = new Map(); // glyph name → HTMLImageElement (loaded)
const badges = new Map(); // "kind|state" → canvas
const bubbles = new Map(); // "label|state" → canvas

/** Load the glyph images once (resolves even if some fail: a dot is drawn instead). */
export async function loadGlyphs() {
  const names = [...new Set([...Object.values(GLYPH), "marker"])];
  await Promise.all(names.map((name) => new Promise((resolve) => {
    const image = new Image();
    image.onload = () => { glyphs.set(name, image); resolve(); };
    image.onerror = resolve;
    image.src = Cesium.buildModuleUrl(`Assets/Textures/maki/${name}.png`);
  })));
}

/** The badge for an asset kind in a state: {id, canvas} (cached). */
export function badge(kind, state = "normal") {
  const id = `${kind}|${state}`;
  if (!badges.has(id)) badges.set(id, drawBadge(GLYPH[kind] || "marker", STATE_CSS[state] || STATE_CSS.normal, state));
  return { id, canvas: badges.get(id) };
}

const badgeUrls = new Map(); // kind → data URL of its normal badge (for HTML lists; toDataURL is slow)

/** The normal-state badge of a kind as a data URL (cached: reading a canvas back is expensive). */
export function badgeUrl(kind) {
  if (!badgeUrls.has(kind)) {
    const small = canvas(BADGE_PX);
    draw2d(small).drawImage(badge(kind, "normal").canvas, 0, 0, BADGE_PX, BADGE_PX);
    badgeUrls.set(kind, small.toDataURL());
  }
  return badgeUrls.get(kind);
}

/** A cluster bubble showing `count` in the colour of its worst state: {id, canvas} (cached). */
/** A bubble's count as drawn: exact below 100, then rounded down ("700+", "2k+"). Every label drawn stays in
 * the texture atlas for good, and live counts move every few seconds: exact large counts would grow it
 * without end (and resize it, ~20% of a clustered frame's JS). The tooltip gives the exact count. */
export function bubbleLabel(count) {
  if (count >= 1000) return `${Math.floor(count / 1000)}k+`;
  return count >= 100 ? `${Math.floor(count / 100) * 100}+` : String(count);
}

export function bubble(count, state = "normal") {
  const label = bubbleLabel(count);
  const id = `cluster|${label}|${state}`;
  if (!bubbles.has(id)) bubbles.set(id, drawBubble(label, STATE_CSS[state] || STATE_CSS.normal));
  return { id, canvas: bubbles.get(id) };
}

let haloCanvas = null;

/** The pulse ring drawn around an alarm marker (one image for all): {id, canvas}. */
export function halo() {
  if (!haloCanvas) {
    const size = BADGE_PX * 4;
    haloCanvas = canvas(size);
    const g = draw2d(haloCanvas);
    const r = size / 2;
    const glow = g.createRadialGradient(r, r, r * 0.35, r, r, r);
    glow.addColorStop(0, hexAlpha(STATE_CSS.alarm, 0));
    glow.addColorStop(0.55, hexAlpha(STATE_CSS.alarm, 0.75));
    glow.addColorStop(1, hexAlpha(STATE_CSS.alarm, 0));
    g.fillStyle = glow;
    g.beginPath();
    g.arc(r, r, r, 0, Math.PI * 2);
    g.fill();
  }
  return { id: "alarm-halo", canvas: haloCanvas };
}

/** A canvas's 2D context, drawn by the CPU. Marker images are small and end up in WebGL textures: a
 * GPU-backed canvas (the default) is rasterised by SwiftShader where there is no GPU and read back for
 * the upload, which made the first badges cost ~0.3 s of the page's load. */
export function draw2d(c) {
  return c.getContext("2d", { willReadFrequently: true });
}

function canvas(size) {
  const c = document.createElement("canvas");
  c.width = c.height = size;
  return c;
}

function drawBadge(glyphName, colour, state) {
  const size = BADGE_PX * 2; // drawn at 2x, shown at BADGE_PX (crisp on HiDPI)
  const c = canvas(size);
  const g = draw2d(c);
  const r = size / 2;
  // soft glow
  const glow = g.createRadialGradient(r, r, r * 0.5, r, r, r);
  glow.addColorStop(0, hexAlpha(colour, 0.55));
  glow.addColorStop(1, hexAlpha(colour, 0));
  g.fillStyle = glow;
  g.beginPath();
  g.arc(r, r, r, 0, Math.PI * 2);
  g.fill();
  // disc
  g.fillStyle = state === "offline" ? "#2a3240" : "#0c1a2b";
  g.strokeStyle = colour;
  g.lineWidth = size * 0.07;
  g.beginPath();
  g.arc(r, r, r * 0.66, 0, Math.PI * 2);
  g.fill();
  g.stroke();
  // glyph, tinted in the state colour on a scratch canvas
  const glyph = glyphs.get(glyphName) || glyphs.get("marker");
  if (glyph) {
    const inner = Math.round(r * 0.82);
    const tint = canvas(inner);
    const tg = draw2d(tint);
    tg.drawImage(glyph, 0, 0, inner, inner);
    tg.globalCompositeOperation = "source-in";
    tg.fillStyle = state === "normal" ? "#e8f4ff" : colour;
    tg.fillRect(0, 0, inner, inner);
    g.drawImage(tint, r - inner / 2, r - inner / 2);
  } else {
    g.fillStyle = "#e8f4ff";
    g.beginPath();
    g.arc(r, r, r * 0.2, 0, Math.PI * 2);
    g.fill();
  }
  return c;
}

const bubbleDiscs = new Map(); // colour → the bubble without its label (drawn once per state)

function drawBubble(label, colour) {
  const size = 88;
  const r = size / 2;
  if (!bubbleDiscs.has(colour)) {
    const disc = canvas(size);
    const g = draw2d(disc);
    g.fillStyle = hexAlpha(colour, 0.25);
    g.beginPath();
    g.arc(r, r, r - 1, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "rgba(8, 20, 36, 0.92)";
    g.strokeStyle = colour;
    g.lineWidth = 5;
    g.beginPath();
    g.arc(r, r, r * 0.7, 0, Math.PI * 2);
    g.fill();
    g.stroke();
    bubbleDiscs.set(colour, disc);
  }
  const c = canvas(size);
  const g = draw2d(c);
  g.drawImage(bubbleDiscs.get(colour), 0, 0);
  g.fillStyle = "#ffffff";
  g.font = `bold ${label.length > 3 ? 20 : 28}px "DejaVu Sans", "WenQuanYi Micro Hei", sans-serif`;
  g.textAlign = "center";
  g.textBaseline = "middle";
  g.fillText(label, r, r + 1);
  return c;
}

function hexAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}
