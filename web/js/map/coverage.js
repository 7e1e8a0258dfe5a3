// Camera coverage: each camera's view sector on the ground (heading 0 = north, clockwise; FOV ≥ 360:
// a disc), the same shape as twin/spatial/camera.py, drawn as one flat primitive.
import { fillInstances, fillPrimitive } from "./flat.js";

const Cesium = window.Cesium;
const FILL = Cesium.Color.fromCssColorString("#22d3ee").withAlpha(0.16);
const ALARM = Cesium.Color.fromCssColorString("#ff4d4f").withAlpha(0.28);
const OFFLINE = Cesium.Color.fromCssColorString("#6b778c").withAlpha(0.14);
const EARTH_M_PER_DEG_LAT = 110540;

/** The sector ring [[lon, lat], ...] a camera sees (WGS84; small-area flat approximation, < 1 m at 100 m). */
export function sector(lon, lat, { heading_deg: heading = 0, fov_deg: fov = 90, range_m: range = 30 } = {}, steps = 16) {
  const mPerDegLon = EARTH_M_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180) * 1.00707; // 111320 cos φ
  const at = (azimuthDeg) => {
    const a = (azimuthDeg * Math.PI) / 180;
    return [lon + (Math.sin(a) * range) / mPerDegLon, lat + (Math.cos(a) * range) / EARTH_M_PER_DEG_LAT];
  };
  if (fov >= 360) return Array.from({ length: steps * 4 }, (_, i) => at((i * 360) / (steps * 4)));
  const start = heading - fov / 2;
  return [[lon, lat], ...Array.from({ length: steps + 1 }, (_, i) => at(start + (fov * i) / steps))];
}

/** True when a target point lies within a camera's range and field of view (for "linked cameras"). */
export function sees(camera, targetLon, targetLat) {
  const p = camera.properties || {};
  const range = Number(p.range_m) || 30;
  const fov = Number(p.fov_deg) || 90;
  const dy = (targetLat - camera.lat) * EARTH_M_PER_DEG_LAT;
  const dx = (targetLon - camera.lon) * EARTH_M_PER_DEG_LAT * Math.cos((camera.lat * Math.PI) / 180) * 1.00707;
  const distance = Math.hypot(dx, dy);
  if (distance > range) return false;
  if (fov >= 360 || distance === 0) return true;
  const azimuth = (Math.atan2(dx, dy) * 180) / Math.PI;
  const offset = ((((azimuth - (Number(p.heading_deg) || 0) + 180) % 360) + 360) % 360) - 180;
  return Math.abs(offset) <= fov / 2 + 1e-9;
}

/** The coverage layer: rebuilt when cameras change state (cheap: ~100 sectors). */
export class CoverageLayer {
  constructor(viewer) {
    this.viewer = viewer;
    this.primitive = null;
    this.visible = true;
    this.count = 0;
  }

  /** Draw the sectors of camera items ({lon, lat, state, properties: {heading_deg, fov_deg, range_m}}). */
  draw(cameras) {
    if (this.primitive) this.viewer.scene.primitives.remove(this.primitive);
    this.primitive = null;
    const instances = cameras.flatMap((camera) => {
      const ring = sector(camera.lon, camera.lat, camera.properties);
      return fillInstances({ type: "Polygon", coordinates: [[...ring, ring[0]]] }, {
        id: { type: "asset", code: camera.code },
        colour: camera.state === "alarm" ? ALARM : camera.state === "offline" ? OFFLINE : FILL,
        height: 0.45,
      });
    });
    this.count = cameras.length;
    if (!instances.length) return;
    this.primitive = this.viewer.scene.primitives.add(fillPrimitive(instances));
    this.primitive.show = this.visible;
    this.viewer.scene.requestRender();
  }

  setVisible(visible) {
    this.visible = visible;
    if (this.primitive) this.primitive.show = visible;
    this.viewer.scene.requestRender();
  }
}
