// Devices as billboards coloured by live state, in one BillboardCollection (10k markers stay ~1 ms
// per frame, where Entities cost ~36 ms), grouped into clusters by a screen-sized ground grid when
// far, alarms always shown on their own and blinking. Live state changes regroup only the cells they touch.
// Bubbles that would overlap on screen (neighbouring cells) are drawn as one, checked before each frame.
import { badge, bubble, halo, BADGE_PX, STATES } from "./icons.js";
import { billboardCollection, MARKER_SCALE, NO_SCALE, ON_TOP } from "./viewer.js";

const Cesium = window.Cesium;
const CLUSTER_PX = 110; // markers closer than this on screen are grouped
const MIN_CLUSTER = 3;
const NO_CLUSTER_BELOW_M = 6; // grid cells smaller than this: everything is shown individually
const BUBBLE_PX = 34; // also the least distance between two bubbles' centres on screen
const SHIFT_PX = 2; // a bubble's centre moving less than this on screen does not make it look for overlaps

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
    this.layoutDirty = false; // a bubble came or went: overlaps are looked at again before the next frame
    this.shiftedCells = new Set(); // bubbles whose centre moved (a member came or went) since then
    this.lastView = null; // the camera (view matrix, frustum) they were last looked at for
    this.lastFrustum = null;
    this.lastSize = null;
    this.sphere = null;
    this.cosLat = Math.cos((origin[1] * Math.PI) / 180);
    viewer.camera.percentageChanged = 0.05;
    viewer.camera.changed.addEventListener(() => this.recluster());
    viewer.camera.moveEnd.addEventListener(() => this.recluster());
    viewer.scene.preRender.addEventListener(() => this.separate());
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
      cell = { items: new Set(), counts: { warning: 0, offline: 0, normal: 0 }, lon: 0, lat: 0, top: 0, bubble: null, label: null, moved: true, position: null, at: null, group: null };
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

  /** A cell's bubble and whether its members' markers are folded into it, after members joined, left or
   * changed state; the bubble it is drawn in (its own, or its merged group's) is repainted. */
  drawCell(cell) {
    const size = cell.items.size;
    if (size < MIN_CLUSTER) {
      if (cell.bubble) {
        this.bubbles.remove(cell.bubble);
        this.layoutDirty = true; // a group it was merged into is redrawn without it
      }
      cell.bubble = null;
      cell.label = null;
      for (const item of cell.items) this.fold(item, false);
      return;
    }
    if (!cell.bubble) {
      for (const item of cell.items) this.fold(item, true); // a new bubble takes in its members
      cell.bubble = this.bubbles.add({ // shown once painted as its unit's host
        width: BUBBLE_PX, height: BUBBLE_PX, disableDepthTestDistance: ON_TOP, scaleByDistance: NO_SCALE, show: false,
      });
    }
    if (cell.moved || !cell.position) {
      cell.position = Cesium.Cartesian3.fromDegrees(cell.lon / size, cell.lat / size, cell.top + 1);
      cell.moved = false;
      if (cell.at) this.shiftedCells.add(cell); // a member came or went: looked at before the next frame
      else this.layoutDirty = true; // a new bubble: it may overlap another
    }
    this.paint(cell.group || { cells: [cell], host: cell });
  }

  /** Draw a unit (one cell, or cells merged because their bubbles overlapped) on its host cell's bubble:
   * their members' count and worst state, at their centre. */
  paint({ cells, host }) {
    if (!host.bubble) return; // the host lost its bubble: the unit is regrouped before the next frame
    const { size, lon, lat, position } = centreOf(cells);
    const icon = bubble(size, STATES.find((state) => cells.some((cell) => cell.bubble && cell.counts[state] > 0)) || "normal");
    const billboard = host.bubble;
    billboard.show = true;
    const id = billboard.id;
    // Most repaints are a recolour (a member's state changed): position and pick id stay as they are.
    if (!id || id.lon !== lon || id.lat !== lat || id.cells !== cells) {
      billboard.position = position;
      // the codes are listed when someone asks (a click), not on every change
      billboard.id = { type: "cluster", lon, lat, cells, get codes() { return cells.flatMap((cell) => (cell.bubble ? [...cell.items].map((item) => item.code) : [])); } };
    }
    if (host.label !== icon.id) {
      billboard.setImage(icon.id, icon.canvas);
      host.label = icon.id;
    }
  }

  /** Before a frame, when the camera or a bubble moved: bubbles closer on screen than their size (neighbouring
   * cells whose members sit near their shared edge; from far away, the cells the park straddles) are merged
   * into one, drawn on the billboard of its largest cell. Only the bubbles are looked at, not the markers, and
   * the cells stay as they are: a live change still regroups its own cell and repaints its unit's bubble. */
  separate() {
    const cameraMoved = this.cameraMoved();
    if (!cameraMoved && !this.layoutDirty && !this.shifted()) return;
    this.layoutDirty = false;
    let units = [];
    for (const cell of this.cells.values()) {
      if (!cell.bubble) continue;
      if (cameraMoved || !cell.at || this.shiftedCells.has(cell)) cell.at = this.toScreen(cell.position); // kept while neither moves
      units.push({ cells: [cell], at: cell.at });
    }
    this.shiftedCells.clear();
    // a merged bubble sits at its members' centre, which may overlap yet another: until none do
    for (let merged = true; merged;) [units, merged] = this.mergeOverlapping(units);
    for (const unit of units) this.place(unit);
  }

  /** Whether a bubble whose members changed moved on screen by more than SHIFT_PX since overlaps were last
   * looked at. With live states, members come and go every frame (an alarm leaves its bubble to blink on
   * its own) but the centre of a bubble of dozens barely moves: the full look is kept for real moves. */
  shifted() {
    for (const cell of this.shiftedCells) {
      if (cell.bubble && cell.at) {
        const at = this.toScreen(cell.position);
        if (!at || (at.x - cell.at.x) ** 2 + (at.y - cell.at.y) ** 2 > SHIFT_PX ** 2) return true;
      }
      this.shiftedCells.delete(cell); // gone, or barely moved: the last look at overlaps stands for it
    }
    return false;
  }

  /** One round of merging: units whose bubbles overlap on screen become one. [units, whether any merged]. */
  mergeOverlapping(units) {
    const parent = units.map((_, i) => i);
    const root = (i) => (parent[i] === i ? i : (parent[i] = root(parent[i])));
    const bins = new Map(); // screen square of BUBBLE_PX → indices of the units centred in it
    const { clientWidth: width, clientHeight: height } = this.viewer.scene.canvas;
    let merged = false;
    units.forEach(({ at }, i) => {
      // off screen (or behind the camera): nothing to cover
      if (!at || at.x < -BUBBLE_PX || at.y < -BUBBLE_PX || at.x > width + BUBBLE_PX || at.y > height + BUBBLE_PX) return;
      const bx = Math.floor(at.x / BUBBLE_PX);
      const by = Math.floor(at.y / BUBBLE_PX);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          for (const j of bins.get((bx + dx) * 65536 + by + dy) || []) {
            const other = units[j].at;
            if ((other.x - at.x) ** 2 + (other.y - at.y) ** 2 >= BUBBLE_PX ** 2 || root(i) === root(j)) continue;
            parent[root(i)] = root(j);
            merged = true;
          }
        }
      }
      const key = bx * 65536 + by;
      if (bins.has(key)) bins.get(key).push(i);
      else bins.set(key, [i]);
    });
    if (!merged) return [units, false];
    const groups = new Map(); // root → its units
    units.forEach((unit, i) => {
      const group = groups.get(root(i));
      if (group) group.push(unit);
      else groups.set(root(i), [unit]);
    });
    return [[...groups.values()].map((group) => (group.length === 1 ? group[0] : this.unitOf(group.flatMap((unit) => unit.cells)))), true];
  }

  /** Cells drawn as one bubble, and where that bubble is on screen. */
  unitOf(cells) {
    return { cells, at: this.toScreen(centreOf(cells).position) };
  }

  /** Show a unit's bubble on its largest cell and hide the other cells' bubbles; a unit drawn so already is
   * left as it is (its cells repaint it when they change). */
  place(unit) {
    const { group } = unit.cells[0];
    if (unit.cells.length === 1 ? !group : group?.cells.length === unit.cells.length && unit.cells.every((cell) => cell.group === group)) return;
    unit.host = unit.cells.reduce((largest, cell) => (cell.items.size > largest.items.size ? cell : largest));
    for (const cell of unit.cells) {
      cell.group = unit.cells.length > 1 ? unit : null;
      if (cell !== unit.host) cell.bubble.show = false;
    }
    this.paint(unit);
  }

  toScreen(position) {
    return Cesium.SceneTransforms.worldToWindowCoordinates(this.viewer.scene, position);
  }

  /** Did the camera or the canvas's size change since the last call? */
  cameraMoved() {
    const camera = this.viewer.camera;
    const { clientWidth, clientHeight } = this.viewer.scene.canvas;
    const size = `${clientWidth}x${clientHeight}`;
    if (this.lastView && Cesium.Matrix4.equals(camera.viewMatrix, this.lastView) && camera.frustum.equals(this.lastFrustum) && size === this.lastSize) return false;
    this.lastView = Cesium.Matrix4.clone(camera.viewMatrix, this.lastView);
    this.lastFrustum = camera.frustum.clone(this.lastFrustum);
    this.lastSize = size;
    return true;
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
    this.layoutDirty = true;
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

/** The members' count and centre of some cells (those with a bubble): {size, lon, lat, position}. */
function centreOf(cells) {
  if (cells.length === 1) {
    const [cell] = cells;
    const size = cell.items.size;
    return { size, lon: cell.lon / size, lat: cell.lat / size, position: cell.position };
  }
  let size = 0;
  let lon = 0;
  let lat = 0;
  let top = 0;
  for (const cell of cells) {
    if (!cell.bubble) continue;
    size += cell.items.size;
    lon += cell.lon;
    lat += cell.lat;
    top = Math.max(top, cell.top);
  }
  return { size, lon: lon / size, lat: lat / size, position: Cesium.Cartesian3.fromDegrees(lon / size, lat / size, top + 1) };
}
