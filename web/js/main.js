// The page: log in, load the park (ground layers, tiles, devices, live data) and mount the panels.
// `window.parktwin` exposes readiness and handles for tests and the benchmark.
import { api, allFeatures, optional, parkUrl, setPark, authHeaders } from "./api.js";
import { emit, on } from "./bus.js";
import { applyI18n, nameOf, t } from "./i18n.js";
import { getSession } from "./session.js";
import { store, loadLatest, loadStates, loadAlarms, activeAlarms } from "./store.js";
import { createViewer, flyToBbox, flyToPoint, globeLoaded, lightFrom, screenPosition } from "./map/viewer.js";
import { GroundLayers } from "./map/ground.js";
import { TileLayers } from "./map/tiles.js";
import { AssetLayer } from "./map/assets.js";
import { CoverageLayer } from "./map/coverage.js";
import { AlarmMarkers } from "./map/alarm-markers.js";
import { Highlighter } from "./map/highlight.js";
import { installPicking } from "./map/picking.js";
import { loadGlyphs } from "./map/icons.js";
import { setSiteImage } from "./map/site-image.js";
import { login } from "./panels/login.js";
import { mountHeader, showParkAndUser } from "./panels/header.js";
import { mountToolbar } from "./panels/toolbar.js";
import { mountLegend } from "./panels/legend.js";
import { mountLayers } from "./panels/layers.js";
import { mountOverview } from "./panels/overview.js";
import { mountSecurity } from "./panels/security.js";
import { mountAlarms } from "./panels/alarms.js";
import { mountEnergy, energyIntensity } from "./panels/energy.js";
import { mountParkingEnv } from "./panels/parking-env.js";
import { mountScore } from "./panels/score.js";
import { mountPlanner } from "./panels/planner.js";
import { showAsset } from "./panels/asset-details.js";
import { showFeature } from "./panels/feature-details.js";
import { showIndicator } from "./panels/indicator-details.js";
import { closeDrawer } from "./panels/drawer.js";
import { toast } from "./panels/toast.js";
import { connectLive } from "./live.js";
import { bboxOf, bboxOfPoints, contains, pad } from "./util/geo.js";

const Cesium = window.Cesium;
let resolveReady;
const parktwin = {
  ready: new Promise((resolve) => { resolveReady = resolve; }),
  isReady: false,
  timings: { start: performance.now() },
  store,
};
window.parktwin = parktwin;

applyI18n();
mountHeader();
boot().catch((error) => {
  console.error(error);
  document.getElementById("loading").classList.add("failed");
  document.getElementById("loading-steps").textContent = `${t("app.loadFailed")}: ${error.message}`;
  parktwin.error = String(error?.message || error);
});

async function boot() {
  if (!getSession()) await login();
  try {
    await api("/api/v1/auth/me");
  } catch (error) {
    if (error.status !== 401) throw error;
    await login();
  }
  on("auth:expired", async () => {
    toast(t("auth.expired"), "error");
    await login();
    location.reload();
  });
  const parks = await api("/api/v1/parks");
  if (!parks.length) throw new Error(t("app.noPark"));
  const wanted = new URLSearchParams(location.search).get("park") || getSession()?.park;
  const park = parks.find((p) => p.slug === wanted) || parks[0];
  setPark(park.slug);
  await start(park.slug);
}

async function start(slug) {
  const mapEl = document.getElementById("map");
  // Everything the first view needs, fetched while Cesium starts.
  const viewerP = createViewer(mapEl);
  const parkP = api(parkUrl());
  const groundP = allFeatures(parkUrl("/features?kind=road,green,water,parking_lot,parking_space,zone,park_boundary,geofence,key_location"));
  const placesP = allFeatures(parkUrl("/features?kind=building,storey,space"));
  const assetsP = allFeatures(parkUrl("/assets/geojson"));
  const tilesetsP = optional(parkUrl("/tilesets")).then((list) => list || []);
  const kindsP = optional("/api/v1/asset-kinds").then((list) => list || []).catch(() => []);
  const statesP = loadStates();
  const glyphsP = loadGlyphs();

  store.park = await parkP;
  showParkAndUser(store.park);
  const latestP = loadLatest();
  const alarmsP = loadAlarms();
  const viewer = await viewerP;
  parktwin.viewer = viewer;
  viewer.scene.renderError.addEventListener((_scene, error) => {
    parktwin.renderError = String(error?.message || error);
    console.error("render error", error);
  });
  // Load at a quarter of the pixels (software WebGL pays per pixel for every loading frame),
  // then draw the finished park at full resolution (and refine its tiles for it, if they need to be).
  viewer.resolutionScale = 0.5;
  const bbox = store.park.bbox || [store.park.center[0] - 0.005, store.park.center[1] - 0.004, store.park.center[0] + 0.005, store.park.center[1] + 0.004];
  await flyToBbox(viewer, bbox, { duration: 0 });
  lightFrom(viewer, store.park.center || [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2]);
  parktwin.timings.viewer = performance.now();
  loaded("viewer");
  // Building tiles first: their content and shaders are the longest part of the load.
  const tiles = new TileLayers(viewer);
  const tilesLoadP = tilesetsP.then((list) => tiles.load(list));

  for (const kind of await kindsP) store.kinds.set(kind.kind, kind);
  const [ground, places] = await Promise.all([groundP, placesP]);
  for (const feature of [...places, ...ground]) {
    const p = feature.properties || {};
    store.places.set(feature.id, { code: feature.id, name: p.name, name_en: p.name_en, kind: p.kind, parent: p.parent, storeys: p.storeys, properties: p, geometry: feature.geometry });
  }

  const groundLayers = new GroundLayers(viewer);
  const origin = store.park.center || [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2];
  const assets = new AssetLayer(viewer, origin);
  const coverage = new CoverageLayer(viewer);
  const locate = (alarm) => {
    const item = alarm.asset && assets.items.get(alarm.asset);
    if (item) return item;
    if (Number.isFinite(alarm.lon) && Number.isFinite(alarm.lat)) return { lon: alarm.lon, lat: alarm.lat, height: alarm.height || 0 };
    return null;
  };
  const alarmMarkers = new AlarmMarkers(viewer, locate);
  const highlighter = new Highlighter(viewer, { tiles, ground: groundLayers, assets, places: store.places });
  Object.assign(parktwin, { ground: groundLayers, tiles, assets, coverage, alarmMarkers, highlighter });
  store.assetItems = assets.items;

  // Ground, tiles and devices in parallel; the page is "ready" when all three are drawn (and the places
  // are in the store by now, which hideReplacedBuildings needs).
  const tilesP = tilesLoadP.then((results) => {
    parktwin.tilesetResults = results;
    for (const r of results) if (!r.ok) console.warn(`tileset ${r.slug}:`, r.error);
    hideReplacedBuildings(tiles);
    parktwin.timings.tiles = performance.now();
    loaded("tiles");
  });
  const groundDrawP = groundLayers.draw(ground).then(() => {
    parktwin.timings.ground = performance.now();
    loaded("ground");
  });
  const assetFeatures = await assetsP;
  await glyphsP;
  await statesP;
  assets.setAssets(assetFeatures, store.states);
  drawCoverage(coverage, assets);
  parktwin.timings.assets = performance.now();
  loaded("assets");

  // Panels
  const toolbarState = { mode: "use" };
  mountToolbar(document.getElementById("toolbar"), toolbarState);
  const updateLegend = mountLegend(document.getElementById("legend"));
  mountOverview(document.getElementById("panel-overview"), { assets });
  mountSecurity(document.getElementById("panel-security"), { assets });
  mountAlarms(document.getElementById("panel-alarms"));
  mountEnergy(document.getElementById("panel-energy"));
  mountParkingEnv(document.getElementById("panel-parking-env"), { ground: groundLayers });
  mountScore(document.getElementById("panel-score"));

  const flyToAsset = (item) => flyToPoint(viewer, item.lon, item.lat, item.height, { range: 120 });
  const flyToCode = (code, { duration = 1.2 } = {}) => {
    const place = store.places.get(code);
    const box = place?.geometry && bboxOf(place.geometry);
    if (box) return flyToBbox(viewer, pad(box, 0.0004), { duration, pitchDeg: -40, headingDeg: Cesium.Math.toDegrees(viewer.camera.heading), sides: 0 });
    return null;
  };
  const flyToTileset = async (slug) => {
    const tileset = tiles.tilesets.get(slug);
    if (tileset) await viewer.flyTo(tileset, { duration: 1.2, offset: new Cesium.HeadingPitchRange(viewer.camera.heading, Cesium.Math.toRadians(-35), tileset.boundingSphere.radius * 3.2) });
  };
  const reloadTilesets = async () => {
    const list = (await optional(parkUrl("/tilesets"))) || [];
    for (const record of list) {
      const current = tiles.meta.get(record.slug);
      if (!current || current.version !== record.version || !tiles.tilesets.has(record.slug)) await tiles.add(record).catch((e) => console.warn(e));
    }
    for (const slug of [...tiles.tilesets.keys()]) if (!list.some((r) => r.slug === slug)) tiles.remove(slug);
    hideReplacedBuildings(tiles);
    emit("tiles:changed");
  };
  const layersPanel = mountLayers(document.getElementById("layers-panel"), { ground: groundLayers, tiles, assets, coverage, alarmMarkers });
  const planner = mountPlanner(document.getElementById("planner-panel"), { tiles, reloadTilesets, flyToTileset, pickPoint: () => pickPoint(viewer), viewer });

  // Selection and focus
  const select = (code, tileFeature = null) => {
    if (assets.items.has(code)) {
      tiles.select(null);
      showAsset(code, { assets, flyTo: flyToAsset });
    } else {
      if (!tileFeature && tiles.selectByKey) tileFeature = tiles.selectByKey(code);
      showFeature(code, { tileFeature, tiles, assets, flyTo: flyToCode });
    }
  };
  on("select", (target) => {
    if (!target) {
      tiles.select(null);
      closeDrawer();
      return;
    }
    if (target.type === "tile") {
      tiles.select(target.feature);
      if (tiles.isBim(target.slug || "")) showFeature(target.key, { tileFeature: target.feature, tiles, assets, flyTo: () => flyToTileset(target.slug) });
      else select(target.key, target.feature);
    } else if (target.type === "asset") select(target.code);
    else if (target.type === "feature") select(target.code);
    else if (target.type === "alarm") emit("focus:alarm", store.alarms.get(target.alarm) || { asset: target.asset });
    else if (target.type === "cluster") flyToPoint(viewer, target.lon, target.lat, 0, { range: Math.max(90, viewer.camera.positionCartographic.height * 0.45) });
  });
  on("focus:asset", (code) => {
    const item = assets.items.get(code);
    if (!item) return;
    flyToAsset(item);
    select(code);
  });
  on("focus:feature", (code) => {
    flyToCode(code);
    select(code);
  });
  on("focus:alarm", (alarm) => {
    const where = locate(alarm);
    if (where) flyToPoint(viewer, where.lon, where.lat, where.height || 0, { range: 110 });
    else if (alarm.feature) flyToCode(alarm.feature);
    if (alarm.auto) return; // a new alarm flies there; opening it is the operator's choice
    if (alarm.asset && assets.items.has(alarm.asset)) select(alarm.asset);
    else if (alarm.feature) select(alarm.feature);
  });

  // Toolbar actions
  const colour = (mode) => {
    toolbarState.mode = mode;
    tiles.colourBy(mode, mode === "alarm" ? buildingStates(assets) : mode === "energy" ? energyIntensity() : {});
    updateLegend(mode, usesOf());
  };
  on("toolbar:colour", colour);
  on("toolbar:home", () => flyToBbox(viewer, bbox));
  on("toolbar:layers", () => {
    const panel = document.getElementById("layers-panel");
    panel.hidden = !panel.hidden;
    layersPanel.render();
  });
  on("toolbar:planner", () => {
    const panel = document.getElementById("planner-panel");
    if (panel.hidden) planner.open();
    else panel.hidden = true;
  });
  on("score:indicator", (indicator) => {
    const positions = highlighter.show(indicator.map);
    showIndicator(indicator, { onClose: () => { highlighter.clear(); emit("score:cleared"); } });
    if (positions.length) flyToBbox(viewer, pad(bboxOfPoints(positions), 0.0003), { duration: 1.2 });
  });
  on("score:clear", () => { highlighter.clear(); closeDrawer(); });

  // Live: states recolour markers, sectors and (in alarm mode) buildings; alarms draw rings.
  const refreshStateViews = debounceFrame(() => {
    drawCoverage(coverage, assets);
    if (toolbarState.mode === "alarm") colour("alarm");
    emit("assets:changed");
  });
  on("store:state", (event) => {
    if (assets.setState(event.asset, event.state)) refreshStateViews();
  });
  on("store:alarms", () => {
    alarmMarkers.draw(activeAlarms());
    emit("alarms:markers");
    if (toolbarState.mode === "alarm") colour("alarm");
  });
  on("store:reading", (reading) => {
    // A fresh reading from a device shown offline: it is back (the server's snapshot says the same later).
    const item = assets.items.get(reading.asset);
    if (item?.state === "offline" && reading.time && Date.now() - Date.parse(reading.time) < 15 * 60 * 1000) {
      store.states[item.code] = "normal";
      emit("store:state", { asset: item.code, state: "normal" });
    }
  });
  on("store:readings", debounceFrame(() => {
    if (toolbarState.mode === "energy") colour("energy");
  }));
  installPicking(viewer, { tiles, tooltipEl: document.getElementById("tooltip"), tooltip: (target) => tooltipText(target, assets, tiles) });

  // Base imagery hook: a georeferenced site plan / orthophoto named in the park's properties.
  const baseImage = store.park.properties?.base_image;
  if (baseImage?.url && baseImage.bounds?.length === 4) {
    const resource = baseImage.url.startsWith("/api/") ? new Cesium.Resource({ url: baseImage.url, headers: authHeaders() }) : baseImage.url;
    setSiteImage(viewer, resource, baseImage.bounds).catch((e) => console.warn("site image:", e));
  }

  await Promise.all([tilesP, groundDrawP, latestP, alarmsP, globeLoaded(viewer).then(() => loaded("globe"))]);
  colour("use");
  alarmMarkers.draw(activeAlarms());
  emit("store:readings");
  emit("assets:changed");
  connectLive();
  viewer.resolutionScale = 1;
  mapEl.classList.remove("loading-hidden");
  viewer.scene.requestRender();
  await nextFrames(viewer, 2);
  await tiles.settled();
  document.getElementById("loading").hidden = true;
  parktwin.timings.ready = performance.now();
  parktwin.isReady = true;
  Object.assign(parktwin, {
    select,
    flyToBbox: (box, options) => flyToBbox(viewer, box, options),
    // Page (client) coordinates of an asset's marker / a place's centre, for clicking in tests.
    screenPositionOf: (code) => toPage(viewer, assets.screenPosition(code)),
    screenPositionOfPlace: (code) => {
      const place = store.places.get(code);
      const box = place?.geometry && bboxOf(place.geometry);
      if (!box) return null;
      const height = (Number(place.properties?.top_height) || Number(place.properties?.height) || 0) * 0.6;
      return toPage(viewer, screenPosition(viewer, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, height));
    },
    flyToPlace: (code, options) => flyToCode(code, options),
    colourBy: colour,
    reloadTilesets,
    flyToTileset,
    renderFrames: (n) => nextFrames(viewer, n),
  });
  emit("app:ready");
  resolveReady({ park: slug, tilesets: parktwin.tilesetResults, ground: groundLayers.counts, assets: assets.items.size });
}

/** Camera sectors for the cameras currently shown. */
function drawCoverage(coverage, assets) {
  coverage.draw([...assets.items.values()].filter((item) => item.kind === "camera" && !assets.hiddenKinds.has("camera")));
}

/** Hide the LOD1 block of each building a BIM model now shows (the building its centre falls in). */
function hideReplacedBuildings(tiles) {
  const buildings = [...store.places.values()].filter((p) => p.kind === "building" && p.geometry);
  const keys = [];
  for (const [slug, tileset] of tiles.tilesets) {
    if (!tiles.isBim(slug) || !tileset.show) continue;
    const c = Cesium.Cartographic.fromCartesian(tileset.boundingSphere.center);
    const point = [Cesium.Math.toDegrees(c.longitude), Cesium.Math.toDegrees(c.latitude)];
    const building = buildings.find((b) => contains(b.geometry, point));
    if (building) keys.push(building.code);
  }
  if (tiles.tilesets.has("buildings")) tiles.hideKeys("buildings", keys);
}

/** The worst state per building code from its devices and its open alarms (colour by alarm state). */
function buildingStates(assets) {
  const rank = { alarm: 3, warning: 2, offline: 1, normal: 0 };
  const states = {};
  for (const alarm of store.alarms.values()) {
    if (!alarm.building || alarm.state === "cleared") continue;
    const state = alarm.severity === "critical" || alarm.severity === "major" ? "alarm" : "warning";
    if ((rank[state] || 0) > (rank[states[alarm.building]] || 0)) states[alarm.building] = state;
  }
  for (const item of assets.items.values()) {
    if (item.state === "normal") continue;
    let place = store.places.get(item.feature);
    for (let guard = 0; place && place.kind !== "building" && guard < 6; guard++) place = store.places.get(place.parent);
    const code = place?.kind === "building" ? place.code : item.properties?.building;
    if (!code) continue;
    const state = item.state === "offline" ? "normal" : item.state;
    if ((rank[state] || 0) > (rank[states[code]] || 0)) states[code] = state;
  }
  return states;
}

function usesOf() {
  return [...new Set([...store.places.values()].filter((p) => p.kind === "building").map((p) => p.properties?.use).filter(Boolean))];
}

function tooltipText(target, assets, tiles) {
  if (target.type === "asset") {
    const item = assets.items.get(target.code);
    return item ? `${nameOf(item)} · ${t(`state.${item.state}`)}` : null;
  }
  if (target.type === "tile") {
    const f = target.feature;
    const name = nameOf({ name: f.getProperty("name"), name_en: f.getProperty("name_en") }) || target.key;
    return tiles.isBim(target.slug || "") ? `${f.getProperty("ifc_class") || ""} ${name}`.trim() : name;
  }
  if (target.type === "feature") return nameOf(store.places.get(target.code)) || target.code;
  if (target.type === "cluster") return t("map.cluster", { n: target.codes.length });
  if (target.type === "alarm") return t("layer.alarms");
  return null;
}

/** Let the user click a point on the map; resolves {lon, lat} or null (Escape). */
function pickPoint(viewer) {
  toast(t("planner.pickHint"), "info", null, 4000);
  return new Promise((resolve) => {
    const handler = new Cesium.ScreenSpaceEventHandler(viewer.scene.canvas);
    const done = (value) => {
      handler.destroy();
      document.removeEventListener("keydown", escape);
      resolve(value);
    };
    const escape = (e) => e.key === "Escape" && done(null);
    document.addEventListener("keydown", escape);
    handler.setInputAction((click) => {
      const cartesian = viewer.camera.pickEllipsoid(click.position);
      if (!cartesian) return;
      const c = Cesium.Cartographic.fromCartesian(cartesian);
      done({ lon: Cesium.Math.toDegrees(c.longitude), lat: Cesium.Math.toDegrees(c.latitude) });
    }, Cesium.ScreenSpaceEventType.LEFT_CLICK);
  });
}

/** Run fn once per animation frame at most. */
function debounceFrame(fn) {
  let scheduled = false;
  return (...args) => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; fn(...args); });
  };
}

/** Tick a loading step off on the loading screen. */
function loaded(step) {
  const el = document.getElementById("loading-steps");
  el.textContent = `${el.textContent} ✓ ${t(`load.${step}`)}`.trim();
}

/** Canvas coordinates → page (client) coordinates. */
function toPage(viewer, position) {
  if (!position) return null;
  const rect = viewer.scene.canvas.getBoundingClientRect();
  return { x: rect.left + position.x, y: rect.top + position.y };
}

/** Resolve after the scene has rendered n more frames; reject (never hang a caller) when rendering has
 * stopped: Cesium stops its render loop after an exception in a frame (scene.renderError). */
function nextFrames(viewer, n, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    let left = n;
    const remove = viewer.scene.postRender.addEventListener(() => {
      if (--left <= 0) {
        done();
        resolve();
      } else viewer.scene.requestRender();
    });
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no frame rendered in ${timeoutMs} ms (render loop ${viewer.useDefaultRenderLoop ? "on" : "stopped"}; ${parktwin.renderError || "no render error"})`));
    }, timeoutMs);
    function done() {
      clearTimeout(timer);
      remove();
    }
    viewer.scene.requestRender();
  });
}
