// Map highlight for a scoring indicator: what earns points (green) and what is missing (red), from
// the indicator's `map` block {highlight: {ok, missing}, layer, geometries (GeoJSON)}.
import { pointCollection, NO_SCALE, ON_TOP } from "./viewer.js";
import { fillInstances, fillPrimitive } from "./flat.js";

const Cesium = window.Cesium;
const OK = Cesium.Color.fromCssColorString("#2bc48a");
const MISSING = Cesium.Color.fromCssColorString("#ff4d4f");

/** Draws and clears indicator highlights over tiles, ground features, assets and extra geometries. */
export class Highlighter {
  constructor(viewer, { tiles, ground, assets, places }) {
    this.viewer = viewer;
    this.places = places; // code → {geometry, ...} of buildings, storeys, spaces
    this.tiles = tiles;
    this.ground = ground;
    this.assets = assets;
    this.collection = viewer.scene.primitives.add(new Cesium.PrimitiveCollection());
    this.rings = this.collection.add(pointCollection());
    this.previousMode = null;
  }

  /** Show an indicator's map block; returns the WGS84 positions involved (for a camera fly-to). */
  show(mapBlock) {
    this.clear();
    if (!mapBlock) return [];
    const ok = new Set(mapBlock.highlight?.ok || mapBlock.ok || []);
    const missing = new Set(mapBlock.highlight?.missing || mapBlock.missing || []);
    const positions = [];
    const keyStates = {};
    const fills = [];
    for (const [codes, colour, state] of [[ok, OK, "normal"], [missing, MISSING, "alarm"]]) {
      for (const code of codes) {
        const asset = this.assets.items.get(code);
        if (asset) {
          this.rings.add({
            position: Cesium.Cartesian3.fromDegrees(asset.lon, asset.lat, asset.height + 0.5),
            pixelSize: 22, color: colour.withAlpha(0.18), outlineColor: colour, outlineWidth: 3,
            disableDepthTestDistance: ON_TOP,
            scaleByDistance: NO_SCALE,
          });
          positions.push([asset.lon, asset.lat]);
          continue;
        }
        const feature = this.ground.features.get(code);
        if (feature) {
          fills.push(...instances(feature, colour.withAlpha(0.55)));
          positions.push(...coordinates(feature.geometry));
          continue;
        }
        keyStates[code] = state; // a building (tile key) or something the tiles know
      }
    }
    for (const feature of mapBlock.geometries?.features || []) {
      const status = feature.properties?.status ?? feature.properties?.state;
      const colour = status === "missing" || status === false ? MISSING : status === "ok" || status === true ? OK : Cesium.Color.fromCssColorString("#22d3ee");
      fills.push(...instances(feature, colour.withAlpha(0.3)));
      positions.push(...coordinates(feature.geometry));
    }
    if (fills.length) this.collection.add(fillPrimitive(fills));
    if (Object.keys(keyStates).length) {
      this.previousMode = { mode: this.tiles.mode, data: this.tiles.modeData };
      this.tiles.colourBy("alarm", keyStates);
      for (const key of Object.keys(keyStates)) {
        const place = this.places.get(key);
        if (place?.geometry) positions.push(...coordinates(place.geometry));
      }
    }
    this.viewer.scene.requestRender();
    return positions;
  }

  clear() {
    this.rings.removeAll();
    for (let i = this.collection.length - 1; i >= 0; i--) {
      const primitive = this.collection.get(i);
      if (primitive !== this.rings) this.collection.remove(primitive);
    }
    if (this.previousMode) {
      this.tiles.colourBy(this.previousMode.mode, this.previousMode.data);
      this.previousMode = null;
    }
    this.viewer.scene.requestRender();
  }
}

function coordinates(geometry) {
  if (!geometry) return [];
  const flat = [];
  const walk = (c) => (typeof c[0] === "number" ? flat.push([c[0], c[1]]) : c.forEach(walk));
  walk(geometry.coordinates || []);
  return flat;
}

function instances(feature, colour) {
  return fillInstances(feature.geometry, { colour, height: 0.55, width: Number(feature.properties?.width_m) || 6, radius: 6 });
}
