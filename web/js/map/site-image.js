// A georeferenced site plan or orthophoto as the park's base imagery (one image + WGS84 bounds).
// Hook: a park whose properties carry `base_image: {url, bounds: [w, s, e, n]}` shows it at start;
// planners can preview a local image from the planner panel.
const Cesium = window.Cesium;
let layer = null;

/** Show `url` stretched over bounds [w, s, e, n] above the world imagery (null url: remove it). */
export async function setSiteImage(viewer, url, bounds) {
  if (layer) viewer.imageryLayers.remove(layer, true);
  layer = null;
  if (url) {
    const provider = await Cesium.SingleTileImageryProvider.fromUrl(url, { rectangle: Cesium.Rectangle.fromDegrees(...bounds) });
    layer = viewer.imageryLayers.addImageryProvider(provider);
    layer.alpha = 0.9;
  }
  viewer.scene.requestRender();
  return layer;
}
