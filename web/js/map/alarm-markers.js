// The alarms layer: a pulsing ring where each active alarm is (its device, or its own lon/lat).
import { draw2d } from "./icons.js";
import { billboardCollection, NO_SCALE, ON_TOP } from "./viewer.js";

const Cesium = window.Cesium;
const COLOURS = { critical: "#ff4d4f", major: "#ff7a45", minor: "#f5a524", warning: "#f5a524", info: "#22d3ee" };

function ring(css) {
  const c = document.createElement("canvas");
  c.width = c.height = 96;
  const g = draw2d(c);
  for (const [r, a, w] of [[44, 0.35, 4], [32, 0.7, 5], [20, 1, 6]]) {
    g.strokeStyle = css;
    g.globalAlpha = a;
    g.lineWidth = w;
    g.beginPath();
    g.arc(48, 48, r, 0, Math.PI * 2);
    g.stroke();
  }
  return c;
}

/** Rings for active alarms; `locate(alarm)` → {lon, lat, height} or null. */
export class AlarmMarkers {
  constructor(viewer, locate) {
    this.viewer = viewer;
    this.locate = locate;
    this.rings = viewer.scene.primitives.add(billboardCollection());
    this.images = {};
    this.phase = 0;
    this.timer = setInterval(() => this.pulse(), 120);
  }

  /** Redraw the rings for these alarms. */
  draw(alarms) {
    this.rings.removeAll();
    for (const alarm of alarms) {
      const where = this.locate(alarm);
      if (!where) continue;
      const css = COLOURS[alarm.severity] || COLOURS.major;
      this.images[css] ||= ring(css);
      this.rings.add({
        position: Cesium.Cartesian3.fromDegrees(where.lon, where.lat, (where.height || 0) + 0.5),
        image: this.images[css],
        imageId: `alarm-ring-${css}`,
        width: 64,
        height: 64,
        disableDepthTestDistance: ON_TOP,
        scaleByDistance: NO_SCALE,
        id: { type: "alarm", alarm: alarm.id, asset: alarm.asset },
      });
    }
    this.viewer.scene.requestRender();
  }

  count() {
    return this.rings.length;
  }

  setVisible(visible) {
    this.rings.show = visible;
    this.viewer.scene.requestRender();
  }

  pulse() {
    if (!this.rings.length || !this.rings.show) return;
    this.phase = (this.phase + 1) % 12;
    const scale = 0.7 + (this.phase / 12) * 0.8;
    for (let i = 0; i < this.rings.length; i++) {
      const b = this.rings.get(i);
      b.scale = scale;
      b.color = Cesium.Color.WHITE.withAlpha(1 - this.phase / 14);
    }
    this.viewer.scene.requestRender();
  }
}
