// The park's own ground layers (roads, green, water, parking, zones, key locations) on the ground:
// the bundled world imagery stops at zoom 2, these layers give the detail.
import { pointCollection, MARKER_SCALE } from "./viewer.js";
import { fillInstances, fillPrimitive, outlineInstances, outlinePrimitive } from "./flat.js";

const Cesium = window.Cesium;
const C = (css, alpha = 1) => Cesium.Color.fromCssColorString(css).withAlpha(alpha);

/** Which layer-panel category a feature kind is drawn in (kinds not listed are not ground features). */
export const GROUND_CATEGORY = {
  road: "roads",
  green: "green",
  water: "water",
  parking_lot: "parking",
  parking_space: "parking",
  zone: "zones",
  park_boundary: "zones",
  geofence: "zones",
  key_location: "key_locations",
};
export const GROUND_CATEGORIES = ["roads", "green", "water", "parking", "zones", "key_locations"];

// Fill colours by kind (dark operations theme, opaque where layers do not need to show through);
// zones are tinted by their type. Heights (m) stack the layers: later ones lie on top.
const FILL = {
  park_boundary: C("#0b1a2c"),
  zone: C("#1e3a5f", 0.16),
  geofence: C("#ff9f43", 0.10),
  green: C("#1d5f45"),
  water: C("#1b5f8f"),
  parking_lot: C("#1a283a"),
  parking_space: C("#2a3d58"),
  road: C("#2f3d50"),
};
const HEIGHT = { park_boundary: 0.02, zone: 0.06, green: 0.1, water: 0.12, parking_lot: 0.14, road: 0.18, parking_space: 0.22, geofence: 0.26 };
const TRANSLUCENT = new Set(["zone", "geofence"]);
const ZONE_TINT = { office: "#3a7bd5", production: "#c98b2b", living: "#3fb68b" };
const OUTLINE = {
  park_boundary: { color: C("#22d3ee", 0.95), width: 3 },
  zone: { color: C("#5b8def", 0.5), width: 1.5, dash: true },
  geofence: { color: C("#ff9f43", 0.85), width: 2, dash: true },
};
const ORDER = ["park_boundary", "zone", "green", "water", "parking_lot", "road", "parking_space", "geofence"];
export const PARKING_FREE = C("#1faa6b");
export const PARKING_TAKEN = C("#8a3a3a");

/** The ground layers of one park: one primitive per (category, kind) so each toggles on its own. */
export class GroundLayers {
  constructor(viewer) {
    this.viewer = viewer;
    this.collection = viewer.scene.primitives.add(new Cesium.PrimitiveCollection());
    this.byCategory = new Map(); // category → [primitive, ...]
    this.counts = {}; // category → feature count
    this.features = new Map(); // code → GeoJSON feature
    this.spaces = null; // the parking spaces' primitive (per-instance colours: free / taken)
    this.instanceIds = new Map(); // code → the pick id object of its geometry instance
  }

  /** Draw GeoJSON features (WGS84) and resolve once every primitive is ready to render. */
  async draw(features) {
    const byKind = new Map();
    for (const feature of features) {
      const kind = feature.properties?.kind;
      if (!GROUND_CATEGORY[kind] || !feature.geometry) continue;
      this.features.set(feature.id ?? feature.properties.code, feature);
      if (!byKind.has(kind)) byKind.set(kind, []);
      byKind.get(kind).push(feature);
      const category = GROUND_CATEGORY[kind];
      this.counts[category] = (this.counts[category] || 0) + 1;
    }
    const kinds = [...byKind.keys()].sort((a, b) => rank(a) - rank(b));
    for (const kind of kinds) {
      const list = byKind.get(kind);
      const category = GROUND_CATEGORY[kind];
      if (kind === "key_location") {
        this.add(category, this.points(list));
        continue;
      }
      const fills = [];
      for (const feature of list) {
        const id = { type: "feature", code: feature.id ?? feature.properties.code };
        this.instanceIds.set(id.code, id);
        const width = Number(feature.properties.width_m) || (kind === "road" ? 7 : 3);
        fills.push(...fillInstances(feature.geometry, { id, colour: fillColour(feature, kind), height: HEIGHT[kind] ?? 0.1, width }));
      }
      if (fills.length) {
        const primitive = this.add(category, fillPrimitive(fills, { translucent: TRANSLUCENT.has(kind) }));
        if (kind === "parking_space") this.spaces = primitive;
      }
      const style = OUTLINE[kind];
      const lines = style ? list.flatMap((f) => outlineInstances(f.geometry, { colour: style.color, width: style.width, height: 0.35 })) : [];
      if (lines.length) this.add(category, outlinePrimitive(lines, { dash: style.dash ? style.color : null }));
      if (kind === "road") this.add(category, centreLines(list));
    }
    this.viewer.scene.requestRender();
    await this.whenReady();
  }

  add(category, primitive) {
    if (!primitive) return null;
    this.collection.add(primitive);
    if (!this.byCategory.has(category)) this.byCategory.set(category, []);
    this.byCategory.get(category).push(primitive);
    return primitive;
  }

  points(list) {
    const points = pointCollection();
    for (const feature of list) {
      const [lon, lat] = feature.geometry.coordinates;
      points.add({
        position: Cesium.Cartesian3.fromDegrees(lon, lat, (feature.properties.base_height || 0) + 0.5),
        pixelSize: 5,
        color: C("#9fb3c8", 0.9),
        outlineColor: C("#0b1a2c"),
        outlineWidth: 1,
        id: { type: "feature", code: feature.id ?? feature.properties.code },
        scaleByDistance: MARKER_SCALE,
        disableDepthTestDistance: 1, // same shader variant as the other point sets
      });
    }
    return points;
  }

  /** Show or hide a category. */
  setVisible(category, visible) {
    for (const primitive of this.byCategory.get(category) || []) primitive.show = visible;
    this.viewer.scene.requestRender();
  }

  /** Colour a parking space free / taken / unknown (null); codes not drawn are ignored. */
  setSpaceOccupied(code, occupied) {
    const primitive = this.spaces;
    if (!primitive?.ready) return;
    const id = this.instanceIds.get(code);
    const attributes = id && primitive.getGeometryInstanceAttributes(id);
    if (!attributes) return;
    const colour = occupied === null ? FILL.parking_space : occupied ? PARKING_TAKEN : PARKING_FREE;
    attributes.color = Cesium.ColorGeometryInstanceAttribute.toValue(colour, attributes.color);
    this.viewer.scene.requestRender();
  }

  /** Resolve when every primitive is ready (renders are requested until then). */
  whenReady() {
    const scene = this.viewer.scene;
    const all = [...this.byCategory.values()].flat().filter((p) => "ready" in p);
    return new Promise((resolve) => {
      const check = () => {
        if (all.every((p) => p.ready || p.isDestroyed?.())) resolve();
        else {
          scene.requestRender();
          setTimeout(check, 100);
        }
      };
      check();
    });
  }
}

function rank(kind) {
  const index = ORDER.indexOf(kind);
  return index < 0 ? ORDER.length : index;
}

function fillColour(feature, kind) {
  if (kind === "zone") return C(ZONE_TINT[feature.properties.zone_type] || "#5b8def", 0.13);
  return FILL[kind] || C("#445", 0.6);
}

/** Dashed centre lines on the main roads (pixels wide: a marking, not a footprint). */
function centreLines(roads) {
  const instances = roads
    .filter((f) => f.properties.road_class === "main")
    .flatMap((f) => outlineInstances(f.geometry, { height: 0.3, width: 1.5 }));
  return instances.length ? outlinePrimitive(instances, { dash: C("#d9b44a", 0.55) }) : null;
}
