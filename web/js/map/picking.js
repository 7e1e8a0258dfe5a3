// Mouse on the map: hover highlight + tooltip, click → "select" events on the bus.
import { emit } from "../bus.js";
import { throttle } from "../util/dom.js";

const Cesium = window.Cesium;

/** What a pick result is: {type: "tile", feature, key} | {type: "asset"|"feature"|"cluster", ...} | null. */
export function describePick(picked) {
  if (!picked) return null;
  if (picked instanceof Cesium.Cesium3DTileFeature) {
    const key = picked.getProperty("key") ?? picked.getProperty("GlobalId") ?? picked.getProperty("code");
    return { type: "tile", feature: picked, key, slug: picked.tileset?.parktwinSlug };
  }
  const id = picked.id;
  if (id && typeof id === "object" && id.type) return id;
  return null;
}

/** Wire hover and click on the viewer's canvas; `tooltip(target) → text|null` names what is under the mouse. */
export function installPicking(viewer, { tiles, tooltipEl, tooltip }) {
  const scene = viewer.scene;
  const handler = new Cesium.ScreenSpaceEventHandler(scene.canvas);

  const hover = throttle((position) => {
    const target = describePick(scene.pick(position));
    tiles.hover(target?.type === "tile" ? target.feature : null);
    const text = target ? tooltip(target) : null;
    scene.canvas.style.cursor = target ? "pointer" : "";
    if (text) {
      tooltipEl.textContent = text;
      tooltipEl.style.transform = `translate(${position.x + 14}px, ${position.y + 14}px)`;
      tooltipEl.hidden = false;
    } else {
      tooltipEl.hidden = true;
    }
  }, 70);

  handler.setInputAction((movement) => hover(movement.endPosition), Cesium.ScreenSpaceEventType.MOUSE_MOVE);
  scene.canvas.addEventListener("mouseleave", () => { tooltipEl.hidden = true; });
  handler.setInputAction((click) => {
    tooltipEl.hidden = true;
    const target = describePick(scene.pick(click.position));
    emit("select", target);
  }, Cesium.ScreenSpaceEventType.LEFT_CLICK);
  return handler;
}
