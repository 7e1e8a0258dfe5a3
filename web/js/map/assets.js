// Devices as billboards coloured by live state, in one BillboardCollection (10k markers stay ~1 ms
// per frame, where Entities cost ~36 ms), grouped into clusters by a screen-sized ground grid when
// far, alarms always shown on their own and blinking. Live state changes regroup only the cells they touch.
import { badge, bubble, halo, BADGE_PX, STATES } from "./icons.js";
import { billboardCollection, MARKER_SCALE, NO_SCALE, ON_TOP } from "./viewer.js";

const Cesium = window.Cesium;
const CLUSTER_PX = 110; // markers closer than this on screen are grouped
const MIN_CLUSTER = 3;
const NO_CLUSTER_BELOW_M = 6; // grid cells smaller than this: everything is shown individually
const BUBBLE_PX = 34;

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
    this.bubbles = viewer.scene.primitives.add(billboardCollection()); // one per grouped cell
    this.visible = true;
    this.items = new Map();
    this.hiddenKinds = new Set();
    this.clusterLevel = null;
    this.clustering = true;
    this.blinkOn = false;
    this.cells = new Map(); // grid cell key → {items, counts, bubble, ...} at the current level
    this.dirtyCells = new Set(); // cells whose members or states changed since the last flush
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
      properties: p, wanted: !this.hiddenKinds.has(p.kind), cell: null, folded: false,
    };
    this.items.set(code, item);
    if (state === "alarm") this.startBlinking(item);
    return item;
  }

  /** Change an asset's state (normal | warning | alarm | offline); unknown codes are ignored. */
  setState(code, state) {
    const item = this.items.get(code);
    if (!item || !state || item.state === state) return false;
    const before = item.state;
    item.state = state;
    const icon = badge(item.kind, state);
    item.marker.setImage(icon.id, icon.canvas);
    if (state === "alarm") this.startBlinking(item);
    else this.stopBlinking(item);
    this.regroup(item, before); // alarms leave their cluster; bubble colours change
    this.viewer.scene.requestRender();
    return true;
  }

  /** Move one item between cells after its state changed from `before`; its cells are redrawn once per burst. */
  regroup(item, before) {
    if (this.clusterLevel === null || !item.wanted) return;
    if (item.cell) {
      item.cell.counts[before] -= 1;
      if (item.state === "alarm") { // alarms are always shown on their own
        this.leave(item);
        this.fold(item, false);
        return;
      }
      item.cell.counts[item.state] = (item.cell.counts[item.state] || 0) + 1;
      this.markDirty(item.cell);
    } else if (item.state !== "alarm") {
      this.join(item, 2 ** this.clusterLevel);
    }
  }

  markDirty(cell) {
    if (!this.dirtyCells.size) queueMicrotask(() => this.flushCells());
    this.dirtyCells.add(cell);
  }

  /** Redraw the cells changed since the last flush (called by itself after a burst of changes). */
  flushCells() {
    if (!this.dirtyCells.size) return;
    for (const cell of this.dirtyCells) this.drawCell(cell);
    this.dirtyCells.clear();
    this.viewer.scene.requestRender();
  }

  /** Put an item in its grid cell (size `size` m) at the current level. A cell keeps running sums
   * so that one member joining or leaving costs the same in a cell of 3 as in a cell of 3,000. */
  join(item, size) {
    const key = `${Math.floor(item.x / size)}:${Math.floor(item.y / size)}`;
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { items: new Set(), counts: { warning: 0, offline: 0, normal: 0 }, lon: 0, lat: 0, top: 0, bubble: null, label: null, moved: true };
      this.cells.set(key, cell);
    }
    cell.items.add(item);
    cell.counts[item.state] = (cell.counts[item.state] || 0) + 1;
    cell.lon += item.lon;
    cell.lat += item.lat;
    cell.top = Math.max(cell.top, item.height); // not lowered when the highest leaves: a bubble a little high is harmless
    cell.moved = true;
    item.cell = cell;
    if (cell.bubble) this.fold(item, true); // into a bubble already drawn
    this.markDirty(cell);
  }

  /** Take an item out of its cell. */
  leave(item) {
    const cell = item.cell;
    cell.items.delete(item);
    cell.lon -= item.lon;
    cell.lat -= item.lat;
    cell.moved = true;
    item.cell = null;
    this.markDirty(cell);
  }

  /** A cell's bubble (count + worst state, at its members' centre) and whether its members' markers
   * are folded into it, after members joined, left or changed state. */
  drawCell(cell) {
    const size = cell.items.size;
    if (size < MIN_CLUSTER) {
      if (cell.bubble) this.bubbles.remove(cell.bubble);
      cell.bubble = null;
      cell.label = null;
      for (const item of cell.items) this.fold(item, false);
      return;
    }
    const icon = bubble(size, STATES.find((state) => cell.counts[state] > 0) || "normal");
    if (!cell.bubble) for (const item of cell.items) this.fold(item, true); // a new bubble takes in its members
    if (cell.moved || !cell.bubble) {
      const lon = cell.lon / size;
      const lat = cell.lat / size;
      const position = Cesium.Cartesian3.fromDegrees(lon, lat, cell.top + 1);
      const members = cell.items;
      // the codes are listed when someone asks (a click), not on every change
      const id = { type: "cluster", lon, lat, get codes() { return [...members].map((item) => item.code); } };
      if (cell.bubble) {
        cell.bubble.position = position;
        cell.bubble.id = id;
      } else {
        cell.bubble = this.bubbles.add({
          position, image: icon.canvas, imageId: icon.id, width: BUBBLE_PX, height: BUBBLE_PX,
          disableDepthTestDistance: ON_TOP, scaleByDistance: NO_SCALE, id,
        });
        cell.label = icon.id;
      }
      cell.moved = false;
    }
    if (cell.label !== icon.id) {
      cell.bubble.setImage(icon.id, icon.canvas);
      cell.label = icon.id;
    }
  }

  /** Hide a marker inside its cluster's bubble (or show it again). Folding sets its size to 0, not `show`:
   * state changes rewrite the image attributes too, so the collection keeps rewriting only changed
   * markers; mixing `show` and image changes made Cesium re-create the whole 10k-marker buffer. */
  fold(item, folded) {
    if (item.folded === folded) return;
    item.folded = folded;
    item.marker.width = item.marker.height = folded ? 0 : BADGE_PX;
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

  /** Regroup every marker when the grid level (camera distance) changed, or `force`. */
  recluster(force = false) {
    const level = this.currentLevel();
    if (!force && level === this.clusterLevel) return;
    this.clusterLevel = level;
    this.bubbles.removeAll();
    this.cells.clear();
    this.dirtyCells.clear();
    const size = level === null ? 0 : 2 ** level;
    for (const item of this.items.values()) {
      item.cell = null;
      item.wanted = !this.hiddenKinds.has(item.kind);
      if (item.wanted && size && item.state !== "alarm") this.join(item, size);
      else this.fold(item, false);
    }
    this.flushCells();
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
