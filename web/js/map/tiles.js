// Buildings (LOD1) and BIM models as 3D Tiles 1.1: loading with the bearer token, hover highlight,
// colour by attribute (Cesium3DTileStyle) and storey isolation for BIM models.
import { authHeaders } from "../api.js";

const Cesium = window.Cesium;

// Colours by building use on the dark theme (the tiles' own colours are for light backgrounds).
export const USE_PALETTE = {
  office: "#4f8fd6", research: "#6c7ae0", rnd: "#6c7ae0", administration: "#3fb3d9", admin: "#3fb3d9",
  industrial: "#c58f4a", factory: "#c58f4a", workshop: "#c58f4a", warehouse: "#a07c56", dormitory: "#5fb88a",
  canteen: "#d39e5a", exhibition: "#b57bd6", service: "#7a8fa6", data_centre: "#8a6ee0", datacenter: "#8a6ee0",
  substation: "#d9c34a", pump_house: "#4ab3b3", guardhouse: "#8795a8",
};
export const DEFAULT_BUILDING = "#8da2b8";
export const HEIGHT_STOPS = [[60, "#f25f5c"], [40, "#f5a524"], [24, "#e5d25c"], [12, "#4fb3d9"], [0, "#3d6fb6"]];
export const STATE_COLOURS = { alarm: "#ff4d4f", warning: "#f5a524", normal: "#2bc48a", offline: "#6b778c" };
export const ENERGY_STOPS = [[0.8, "#f25f5c"], [0.6, "#f5a524"], [0.4, "#e5d25c"], [0.2, "#7fcf8f"], [0, "#3d9f7a"]];
// Simple shading instead of PBR + image-based lighting: a much smaller shader (seconds less to
// compile under software WebGL) and a clean look: lit from the scene light plus an ambient floor.
const SHADE = `
  float shade(vec3 normalEC) {
    float lambert = max(dot(normalize(normalEC), normalize(czm_lightDirectionEC)), 0.0);
    return 0.42 + 0.58 * lambert;
  }`;
// LOD1 buildings: the style gives the colour (multiplied in after this), so only the shade is kept.
const BUILDING_SHADER = new Cesium.CustomShader({
  lightingModel: Cesium.LightingModel.UNLIT,
  fragmentShaderText: `${SHADE}
  void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material) {
    material.diffuse = vec3(shade(fsInput.attributes.normalEC));
  }`,
});
// BIM models keep their IFC colours, shaded.
const BIM_SHADER = new Cesium.CustomShader({
  lightingModel: Cesium.LightingModel.UNLIT,
  fragmentShaderText: `${SHADE}
  void fragmentMain(FragmentInput fsInput, inout czm_modelMaterial material) {
    material.diffuse = material.diffuse * (0.6 + 0.8 * shade(fsInput.attributes.normalEC));
  }`,
});
const HOVER = Cesium.Color.fromCssColorString("#7ee8fa");
const SELECTED = Cesium.Color.fromCssColorString("#22d3ee");
const quote = (value) => `'${String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** The park's tilesets by slug, their styles and the hovered / selected feature. */
export class TileLayers {
  constructor(viewer) {
    this.viewer = viewer;
    this.tilesets = new Map(); // slug → Cesium3DTileset
    this.meta = new Map(); // slug → the /tilesets record
    this.storeys = new Map(); // slug → Set of storey values seen in loaded tiles
    this.hidden = new Map(); // slug → Set of feature keys hidden (e.g. a LOD1 building replaced by its BIM)
    this.isolated = new Map(); // slug → storey shown alone
    this.mode = "use";
    this.modeData = {};
    this.hovered = null;
    this.selected = null;
  }

  /** Load every tileset of the list; resolves when each has loaded its first view (or failed). */
  async load(records) {
    const results = await Promise.allSettled(records.map((record) => this.add(record)));
    return results.map((r, i) => ({ slug: records[i].slug, ok: r.status === "fulfilled", error: r.reason }));
  }

  /** Load one tileset (a /tilesets record with `url`), replacing a previous one of the same slug. */
  async add(record, { url = record.url } = {}) {
    const resource = new Cesium.Resource({ url, headers: authHeaders() });
    const tileset = await Cesium.Cesium3DTileset.fromUrl(resource, {
      maximumScreenSpaceError: 8,
      dynamicScreenSpaceError: false,
      enableCollision: false,
      customShader: this.isBim(record.slug) ? BIM_SHADER : BUILDING_SHADER,
      imageBasedLighting: new Cesium.ImageBasedLighting({ imageBasedLightingFactor: new Cesium.Cartesian2(0, 0) }),
      environmentMapOptions: { enabled: false },
    });
    this.remove(record.slug);
    tileset.parktwinSlug = record.slug;
    this.tilesets.set(record.slug, tileset);
    this.meta.set(record.slug, { ...record, loadedUrl: url });
    this.storeys.set(record.slug, new Set());
    tileset.tileLoad.addEventListener((tile) => this.collect(record.slug, tile));
    tileset.tileVisible.addEventListener((tile) => this.remark(tile));
    this.viewer.scene.primitives.add(tileset);
    this.applyStyle(record.slug);
    await whenLoaded(this.viewer, tileset);
    return tileset;
  }

  /** Resolve when no tileset has tiles left to load for the current view (e.g. refining after the view
   * or the resolution changed); gives up waiting after `timeoutMs`, so a stuck tile never hangs a caller. */
  async settled(timeoutMs = 15000) {
    const loading = [...this.tilesets.values()].filter((tileset) => !tileset.tilesLoaded);
    if (!loading.length) return;
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([Promise.all(loading.map((tileset) => whenLoaded(this.viewer, tileset))), late]);
    clearTimeout(timer);
  }

  remove(slug) {
    const old = this.tilesets.get(slug);
    if (!old) return;
    if (this.hovered?.tileset === old) this.hovered = null;
    if (this.selected?.tileset === old) this.selected = null;
    this.viewer.scene.primitives.remove(old);
    this.tilesets.delete(slug);
    this.viewer.scene.requestRender();
  }

  isBim(slug) {
    return slug.startsWith("bim-");
  }

  /** Storey values seen in a BIM tileset's features, sorted naturally. */
  storeysOf(slug) {
    return [...(this.storeys.get(slug) || [])].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  }

  collect(slug, tile) {
    const content = tile.content;
    const seen = this.storeys.get(slug);
    if (!content?.featuresLength || !seen) return;
    for (let i = 0; i < content.featuresLength; i++) {
      const storey = content.getFeature(i).getProperty("storey");
      if (storey !== undefined && storey !== null && storey !== "") seen.add(String(storey));
    }
  }

  setVisible(slug, visible) {
    const tileset = this.tilesets.get(slug);
    if (tileset) tileset.show = visible;
    this.viewer.scene.requestRender();
  }

  /** Colour the building tiles by "use" | "height" | "alarm" | "energy"; data: {key → state | intensity 0..1}. */
  colourBy(mode, data = {}) {
    this.mode = mode;
    this.modeData = data;
    for (const slug of this.tilesets.keys()) if (!this.isBim(slug)) this.applyStyle(slug);
  }

  /** Hide some features of a tileset by key (the LOD1 block of a building shown as BIM). */
  hideKeys(slug, keys) {
    this.hidden.set(slug, new Set(keys));
    this.applyStyle(slug);
  }

  /** Show only one storey of a BIM tileset (null: every storey). */
  isolateStorey(slug, storey) {
    if (storey === null || storey === undefined || storey === "") this.isolated.delete(slug);
    else this.isolated.set(slug, String(storey));
    this.applyStyle(slug);
  }

  applyStyle(slug) {
    const tileset = this.tilesets.get(slug);
    if (!tileset) return;
    const show = showExpression(this.hidden.get(slug), this.isolated.get(slug));
    const style = { show };
    if (!this.isBim(slug)) style.color = colourExpression(this.mode, this.modeData);
    tileset.style = new Cesium.Cesium3DTileStyle(style);
    // A new style repaints every feature: hover/selection colours go back on in tileVisible.
    this.viewer.scene.requestRender();
  }

  /** Hover highlight on a tile feature (or clear it with null). */
  hover(feature) {
    if (feature === this.hovered) return;
    if (this.hovered && this.hovered !== this.selected) unmark(this.hovered);
    this.hovered = null;
    if (feature && feature !== this.selected) {
      mark(feature, HOVER);
      this.hovered = feature;
    }
    this.viewer.scene.requestRender();
  }

  /** Selection outline colour on a tile feature (or clear it with null). */
  select(feature) {
    if (this.selected) unmark(this.selected);
    this.selected = feature || null;
    if (feature) mark(feature, SELECTED);
    this.viewer.scene.requestRender();
  }

  /** Select the feature whose `key` is code (in loaded tiles), e.g. when a building is chosen in a list. */
  selectByKey(code) {
    for (const tileset of this.tilesets.values()) {
      const feature = findFeature(tileset, code);
      if (feature) {
        this.select(feature);
        return feature;
      }
    }
    this.select(null);
    return null;
  }

  /** Runs for each visible tile every frame: if a style (re)applied colours, put hover/selection back on. */
  remark(tile) {
    for (const [feature, colour] of [[this.selected, SELECTED], [this.hovered, HOVER]]) {
      if (feature && feature.content === tile.content && !feature.color.equalsEpsilon(colour, 2 / 255)) {
        feature.parktwinOriginal = undefined; // the colour it has now is the style's
        mark(feature, colour);
      }
    }
  }
}

function mark(feature, colour) {
  if (feature.parktwinOriginal === undefined) feature.parktwinOriginal = Cesium.Color.clone(feature.color);
  feature.color = colour;
}

function unmark(feature) {
  try {
    if (feature.parktwinOriginal !== undefined) feature.color = feature.parktwinOriginal;
    feature.parktwinOriginal = undefined;
  } catch {
    // the tile was unloaded meanwhile: nothing to restore
  }
}

function findFeature(tileset, code) {
  let found = null;
  const visit = (tile) => {
    const content = tile.content;
    for (let i = 0; !found && content && i < content.featuresLength; i++) {
      const feature = content.getFeature(i);
      if (feature.getProperty("key") === code || feature.getProperty("GlobalId") === code) found = feature;
    }
    for (const child of tile.children) if (!found) visit(child);
  };
  if (tileset.root) visit(tileset.root);
  return found;
}

function showExpression(hiddenKeys, storey) {
  const parts = [];
  if (hiddenKeys?.size) parts.push(...[...hiddenKeys].map((key) => `\${key} !== ${quote(key)}`));
  if (storey !== undefined) parts.push(`\${storey} === ${quote(storey)}`);
  return parts.length ? parts.join(" && ") : "true";
}

/** The Cesium3DTileStyle colour for a mode (conditions are evaluated per feature on the GPU side). */
export function colourExpression(mode, data) {
  const fallback = `color('${DEFAULT_BUILDING}', 0.92)`;
  if (mode === "height") {
    return { conditions: [...HEIGHT_STOPS.map(([min, css]) => [`\${height} >= ${min}`, `color('${css}', 0.92)`]), ["true", fallback]] };
  }
  if (mode === "alarm") {
    const conditions = Object.entries(data)
      .filter(([, state]) => STATE_COLOURS[state])
      .map(([key, state]) => [`\${key} === ${quote(key)}`, `color('${STATE_COLOURS[state]}', 0.95)`]);
    return { conditions: [...conditions, ["true", `color('${STATE_COLOURS.normal}', 0.55)`]] };
  }
  if (mode === "energy") {
    const conditions = Object.entries(data).map(([key, intensity]) => {
      const stop = ENERGY_STOPS.find(([min]) => intensity >= min) || ENERGY_STOPS.at(-1);
      return [`\${key} === ${quote(key)}`, `color('${stop[1]}', 0.95)`];
    });
    return { conditions: [...conditions, ["true", `color('#44505f', 0.8)`]] };
  }
  return {
    conditions: [
      ...Object.entries(USE_PALETTE).map(([use, css]) => [`\${use} === ${quote(use)}`, `color('${css}', 0.92)`]),
      ["true", fallback],
    ],
  };
}

/** Resolve once a tileset has loaded the tiles of the first view (renders requested until then). */
function whenLoaded(viewer, tileset) {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        viewer.scene.requestRender();
        resolve(tileset);
      }
    };
    tileset.initialTilesLoaded.addEventListener(finish);
    tileset.allTilesLoaded.addEventListener(finish);
    const pump = () => {
      if (done) return;
      viewer.scene.requestRender();
      setTimeout(pump, 400); // a safety net: Cesium requests frames itself when tiles arrive
    };
    pump();
  });
}
