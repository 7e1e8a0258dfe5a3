// Devices as billboards coloured by live state, in one BillboardCollection (10k markers stay ~1 ms
// per frame, where Entities cost ~36 ms), grouped into clusters by a screen-sized ground grid when
// far, alarms always shown on their own and blinking.
import { badge, bubble, halo, BADGE_PX, STATES } from "./icons.js";
import { billboardCollection, MARKER_SCALE, NO_SCALE, ON_TOP } from "./viewer.js";

const Cesium = window.Cesium;
const CLUSTER_PX = 110; // markers closer than this on screen are grouped
const MIN_CLUSTER = 3;
const NO_CLUSTER_BELOW_M = 6; // grid cells smaller than this: everything is shown individually
const worst = (a, b) => (STATES.indexOf(a) <= STATES.indexOf(b) ? a : b);

/** The device markers of a park; `items` maps asset code → {code, kind, lon, lat, height, state, ...}. */
export class AssetLayer {
  constructor(viewer, origin) {
    this.viewer = viewer;
    this.origin = origin; // [lon, lat] of the park centre: the clustering grid's origin
    // Alarms blink by showing and hiding this small collection of rings (drawn under the markers): no
    // marker is rewritten. Scaling the alarm markers themselves rewrote hundreds of billboards per frame,
    // ~10 ms of JS with 10k markers.
    this.halos = viewer.scene.primitives.add(billboardCollection());
    this.markers = viewer.scene.primitives.add(billboardCollection());
    this.bubbles = viewer.scene.primitives.add(billboardCollection());
    this.visible = true;
    this.items = new Map();
    this.hiddenKinds = new Set();
    this.clusterLevel = null;
    this.clustering = true;
    this.blinkOn = false;
    this.reclusterTimer = null;
    this.sphere = null;
    this.cosLat = Math.cos((origin[1] * Math.PI) / 180);
    viewer.camera.percentageChanged = 0.05;
    viewer.camera.changed.addEventListener(() => this.recluster());
    viewer.camera.moveEnd.addEventListener(() => this.recluster());
    this.blinkTimer = setInterval(() => this.blink(), 450);
  }

  /** Replace the markers with these assets: GeoJSON point features (height = 3rd coordinate, m). */
  setAssets(features, states = {}) {
    this.markers.removeAll();
    this.halos.removeAll();
    this.items.clear();
    for (const feature of features) this.add(feature, states[feature.id] || "normal");
    this.sphere = null;
    this.clusterLevel = null;
    this.recluster(true);
  }

  /** Add one asset marker (a GeoJSON point feature). */
  add(feature, state = "normal") {
    const [lon, lat, height = 0] = feature.geometry.coordinates;
    const p = feature.properties || {};
    const code = feature.id ?? p.code;
    const icon = badge(p.kind, state);
    const marker = this.markers.add({
      position: Cesium.Cartesian3.fromDegrees(lon, lat, height + 0.5),
      image: icon.canvas,
      imageId: icon.id,
      width: BADGE_PX,
      height: BADGE_PX,
      disableDepthTestDistance: ON_TOP, // devices inside buildings stay visible
      scaleByDistance: MARKER_SCALE,
      id: { type: "asset", code },
      show: !this.hiddenKinds.has(p.kind),
    });
    const item = {
      code, kind: p.kind, name: p.name, name_en: p.name_en, feature: p.feature, lon, lat, height,
      state, marker, x: (lon - this.origin[0]) * this.cosLat * 111320, y: (lat - this.origin[1]) * 110540,
      properties: p,
    };
    this.items.set(code, item);
    if (state === "alarm") this.startBlinking(item);
    return item;
  }

  /** Change an asset's state (normal | warning | alarm | offline); unknown codes are ignored. */
  setState(code, state) {
    const item = this.items.get(code);
    if (!item || !state || item.state === state) return false;
    item.state = state;
    const icon = badge(item.kind, state);
    item.marker.setImage(icon.id, icon.canvas);
    if (state === "alarm") this.startBlinking(item);
    else this.stopBlinking(item);
    this.scheduleRecluster(); // alarms leave their cluster; bubble colours change
    this.viewer.scene.requestRender();
    return true;
  }

  startBlinking(item) {
    if (item.halo) return;
    const ring = halo();
    item.halo = this.halos.add({
      position: item.marker.position,
      image: ring.canvas,
      imageId: ring.id,
      width: BADGE_PX * 2,
      height: BADGE_PX * 2,
      disableDepthTestDistance: ON_TOP,
      scaleByDistance: MARKER_SCALE,
      show: item.marker.show,
      id: { type: "asset", code: item.code },
    });
  }

  stopBlinking(item) {
    if (!item.halo) return;
    this.halos.remove(item.halo);
    item.halo = null;
  }

  /** Regroup soon, once for a burst of state changes (a regroup walks every marker). */
  scheduleRecluster() {
    if (this.reclusterTimer) return;
    this.reclusterTimer = setTimeout(() => {
      this.reclusterTimer = null;
      this.recluster(true);
    }, 250);
  }

  setKindVisible(kind, visible) {
    if (visible) this.hiddenKinds.delete(kind);
    else this.hiddenKinds.add(kind);
    this.clusterLevel = null;
    this.recluster(true);
  }

  setVisible(visible) {
    this.visible = visible;
    this.markers.show = visible;
    this.bubbles.show = visible;
    this.halos.show = visible && this.blinkOn;
    this.viewer.scene.requestRender();
  }

  /** Count of markers by kind. */
  counts() {
    const counts = {};
    for (const item of this.items.values()) counts[item.kind] = (counts[item.kind] || 0) + 1;
    return counts;
  }

  /** Count of markers by state. */
  stateCounts() {
    const counts = { normal: 0, warning: 0, alarm: 0, offline: 0 };
    for (const item of this.items.values()) counts[item.state] = (counts[item.state] || 0) + 1;
    return counts;
  }

  /** Regroup markers when the grid level (camera distance) changed, or `force`. */
  recluster(force = false) {
    const level = this.currentLevel();
    if (!force && level === this.clusterLevel) return;
    this.clusterLevel = level;
    this.bubbles.removeAll();
    const cell = level === null ? 0 : 2 ** level;
    const groups = new Map();
    for (const item of this.items.values()) {
      item.wanted = !this.hiddenKinds.has(item.kind);
      if (!item.wanted || !cell || item.state === "alarm") continue;
      const key = `${Math.floor(item.x / cell)}:${Math.floor(item.y / cell)}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(item);
    }
    for (const group of groups.values()) {
      if (group.length < MIN_CLUSTER) continue;
      let lon = 0;
      let lat = 0;
      let height = 0;
      let state = "normal";
      for (const item of group) {
        item.wanted = false;
        lon += item.lon;
        lat += item.lat;
        height = Math.max(height, item.height);
        state = worst(item.state, state);
      }
      const icon = bubble(group.length, state);
      this.bubbles.add({
        position: Cesium.Cartesian3.fromDegrees(lon / group.length, lat / group.length, height + 1),
        image: icon.canvas,
        imageId: icon.id,
        width: 34,
        height: 34,
        disableDepthTestDistance: ON_TOP,
        scaleByDistance: NO_SCALE,
        id: { type: "cluster", codes: group.map((item) => item.code), lon: lon / group.length, lat: lat / group.length },
      });
    }
    // Only markers whose visibility changes are touched: each change rewrites its vertices.
    for (const item of this.items.values()) {
      if (item.marker.show !== item.wanted) item.marker.show = item.wanted;
      if (item.halo && item.halo.show !== item.wanted) item.halo.show = item.wanted;
    }
    this.viewer.scene.requestRender();
  }

  /** log2 of the grid cell (m) matching CLUSTER_PX at the park centre; null: no clustering. */
  currentLevel() {
    if (!this.clustering) return null;
    const scene = this.viewer.scene;
    if (!this.sphere) this.sphere = new Cesium.BoundingSphere(Cesium.Cartesian3.fromDegrees(...this.origin), 1);
    const metresPerPixel = this.viewer.camera.getPixelSize(this.sphere, scene.drawingBufferWidth, scene.drawingBufferHeight)
      * (window.devicePixelRatio || 1);
    const cell = CLUSTER_PX * metresPerPixel;
    if (!Number.isFinite(cell) || cell < NO_CLUSTER_BELOW_M) return null;
    return Math.round(Math.log2(cell));
  }

  blink() {
    if (!this.halos.length) return; // one ring per alarm
    this.blinkOn = !this.blinkOn;
    this.halos.show = this.visible && this.blinkOn;
    this.viewer.scene.requestRender();
  }

  /** Window position {x, y} of an asset's marker, or null (for tests and pop-ups). */
  screenPosition(code) {
    const item = this.items.get(code);
    if (!item) return null;
    const p = Cesium.SceneTransforms.worldToWindowCoordinates(this.viewer.scene, item.marker.position);
    return p ? { x: p.x, y: p.y } : null;
  }

  destroy() {
    clearInterval(this.blinkTimer);
  }
}
