// The Cesium viewer, fully offline: bundled NaturalEarthII imagery, no ion, no geocoder, render on demand.
const Cesium = window.Cesium;

/** Create the viewer in `container` (the world imagery's description loads alongside, not before it). */
export async function createViewer(container) {
  Cesium.Ion.defaultAccessToken = ""; // nothing may talk to Cesium ion
  // The world imagery is blurry at park scale: a faint texture over the navy globe colour, a backdrop
  // for the park's own layers (alpha only: other adjustments are more per-pixel work for software WebGL).
  const baseLayer = Cesium.ImageryLayer.fromProviderAsync(
    Cesium.TileMapServiceImageryProvider.fromUrl(Cesium.buildModuleUrl("Assets/Textures/NaturalEarthII")),
    { alpha: 0.14 },
  );
  const viewer = new Cesium.Viewer(container, {
    baseLayer,
    baseLayerPicker: false,
    geocoder: false,
    homeButton: false,
    sceneModePicker: false,
    navigationHelpButton: false,
    fullscreenButton: false,
    animation: false,
    timeline: false,
    infoBox: false,
    selectionIndicator: false,
    projectionPicker: false,
    vrButton: false,
    requestRenderMode: true,
    maximumRenderTimeChange: Infinity,
    msaaSamples: 1,
    orderIndependentTranslucency: false, // plain blending: OIT costs extra full-screen passes
    skyBox: false,
    skyAtmosphere: false,
    contextOptions: { webgl: { preserveDrawingBuffer: true } }, // screenshots in tests
  });
  const scene = viewer.scene;
  scene.globe.baseColor = Cesium.Color.fromCssColorString("#08121f");
  scene.globe.showGroundAtmosphere = false;
  scene.globe.enableLighting = false;
  scene.globe.dynamicAtmosphereLighting = false; // fewer shader variants to compile
  scene.globe.showWaterEffect = false;
  // The globe is a plain ellipsoid under blurry world imagery: coarse tiles look the same and load in a
  // fraction of the frames (each globe tile costs worker time and draw calls under software WebGL).
  scene.globe.maximumScreenSpaceError = 8;
  scene.globe.preloadSiblings = false;
  scene.globe.preloadAncestors = false;
  scene.globe.depthTestAgainstTerrain = false;
  scene.backgroundColor = Cesium.Color.fromCssColorString("#040a14");
  scene.fog.enabled = false;
  // Every extra shader costs seconds to compile under software WebGL: no sky, sun, moon, FXAA.
  if (scene.sun) scene.sun.show = false;
  if (scene.moon) scene.moon.show = false;
  scene.highDynamicRange = false;
  scene.postProcessStages.fxaa.enabled = false;
  scene.screenSpaceCameraController.minimumZoomDistance = 20;
  scene.screenSpaceCameraController.maximumZoomDistance = 60000;
  showWorldWhenFar(viewer);
  skipBrdfLut(scene);
  viewer.cesiumWidget.creditContainer.classList.add("credits");
  return viewer;
}

// The first time a 3D Tiles model draws, Cesium renders a 256×256 BRDF lookup table (1,024 samples a
// pixel) for physically based lighting. Every model here is shaded by our unlit custom shaders, which
// never read it, and under software WebGL the table cost ~1 s of each page load: a 1-pixel table stands
// in. (Private API, so guarded: a Cesium that renames it just renders the table again.)
function skipBrdfLut(scene) {
  const generator = scene._brdfLutGenerator;
  if (!generator || !("_colorTexture" in generator) || generator._colorTexture !== undefined || !Cesium.Texture) return;
  generator._colorTexture = new Cesium.Texture({
    context: scene.context,
    source: { width: 1, height: 1, arrayBufferView: new Uint8Array([255, 255, 255, 255]) },
  });
}

// Camera height (m) above which the globe and its world imagery are drawn. Nearer, the park's own
// ground layers fill the view and the world imagery (zoom ≤ 2) is a uniform grey tint, yet the globe
// is a full-screen pass with its own tiles: under software WebGL it cost 60% of every frame and ~1.5 s
// of the page's load. A site plan or orthophoto lies on the globe, so it keeps the globe on.
const WORLD_FROM_M = 12000;

/** Draw the globe only when it shows something: from far away, or under a site image. */
function showWorldWhenFar(viewer) {
  const scene = viewer.scene;
  const update = () => {
    const far = scene.camera.positionCartographic.height > WORLD_FROM_M;
    const show = far || viewer.imageryLayers.length > 1;
    if (scene.globe.show !== show) {
      scene.globe.show = show;
      scene.requestRender();
      if (show) globeLoaded(viewer); // frames until its tiles are in
    }
  };
  scene.preRender.addEventListener(update); // every frame: camera.changed lags (it fires after 5% of a move)
  viewer.imageryLayers.layerAdded.addEventListener(update);
  viewer.imageryLayers.layerRemoved.addEventListener(update);
  update();
}

/** Resolve once the globe's tiles for the view are loaded (at once when the globe is not drawn at this view). */
export function globeLoaded(viewer) {
  return new Promise((resolve) => {
    const check = () => {
      if (!viewer.scene.globe.show || viewer.scene.globe.tilesLoaded) resolve();
      else {
        viewer.scene.requestRender();
        setTimeout(check, 400); // a safety net: Cesium requests frames itself when tiles arrive
      }
    };
    check();
  });
}

/** Light the scene from the south-east, high up, at this place (a fixed "sun": no time of day). */
export function lightFrom(viewer, [lon, lat]) {
  const frame = Cesium.Transforms.eastNorthUpToFixedFrame(Cesium.Cartesian3.fromDegrees(lon, lat));
  const toLight = Cesium.Matrix4.multiplyByPointAsVector(frame, new Cesium.Cartesian3(0.35, -0.45, 0.82), new Cesium.Cartesian3());
  const direction = Cesium.Cartesian3.normalize(Cesium.Cartesian3.negate(toLight, toLight), toLight);
  viewer.scene.light = new Cesium.DirectionalLight({ direction, intensity: 2.0 });
}

/** Fly (or jump) to a WGS84 bbox [w, s, e, n] looking down at `pitchDeg`, facing `headingDeg`,
 * framed in the part of the map between the side panels (`sides` CSS px hidden on each side). */
export function flyToBbox(viewer, bbox, { duration = 1.5, pitchDeg = -38, headingDeg = 12, sides = 396 } = {}) {
  const [w, s, e, n] = bbox;
  const sphere = Cesium.BoundingSphere.fromPoints([
    Cesium.Cartesian3.fromDegrees(w, s),
    Cesium.Cartesian3.fromDegrees(e, n),
    Cesium.Cartesian3.fromDegrees(w, n),
    Cesium.Cartesian3.fromDegrees(e, s),
  ]);
  const canvas = viewer.scene.canvas;
  const width = canvas.clientWidth || 1600;
  const visible = Math.max(0.35, (width - 2 * sides) / width); // share of the width not under panels
  const frustum = viewer.camera.frustum;
  const fov = frustum.fov || Cesium.Math.PI_OVER_THREE;
  const aspect = (canvas.clientWidth || 16) / (canvas.clientHeight || 9);
  const horizontalFov = aspect >= 1 ? fov : 2 * Math.atan(Math.tan(fov / 2) * aspect);
  const range = (2 * sphere.radius) / (visible * 2 * Math.tan(horizontalFov / 2)) * 1.02;
  const offset = new Cesium.HeadingPitchRange(Cesium.Math.toRadians(headingDeg), Cesium.Math.toRadians(pitchDeg), range);
  if (duration === 0) {
    viewer.camera.cancelFlight(); // a jump ends a flight in progress, which would otherwise carry the camera off again
    viewer.camera.viewBoundingSphere(sphere, offset);
    viewer.camera.lookAtTransform(Cesium.Matrix4.IDENTITY);
    viewer.scene.requestRender();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    viewer.camera.flyToBoundingSphere(sphere, { offset, duration, complete: resolve, cancel: resolve });
  });
}

/** Fly to a point (lon, lat, height above ground in m) from `range` metres away. */
export function flyToPoint(viewer, lon, lat, height = 0, { range = 180, pitchDeg = -35, duration = 1.4 } = {}) {
  const sphere = new Cesium.BoundingSphere(Cesium.Cartesian3.fromDegrees(lon, lat, height), 1);
  const offset = new Cesium.HeadingPitchRange(viewer.camera.heading, Cesium.Math.toRadians(pitchDeg), range);
  return new Promise((resolve) => {
    viewer.camera.flyToBoundingSphere(sphere, { offset, duration, complete: resolve, cancel: resolve });
  });
}

/** The window position {x, y} (CSS px in the map canvas) of a WGS84 point, or null when off screen. */
export function screenPosition(viewer, lon, lat, height = 0) {
  const position = Cesium.SceneTransforms.worldToWindowCoordinates(
    viewer.scene,
    Cesium.Cartesian3.fromDegrees(lon, lat, height),
  );
  return position ? { x: position.x, y: position.y } : null;
}

// Every billboard and point collection is made alike (translucent pass only, distance scaling and
// depth-test distance on every item) so they share one compiled shader each: under software WebGL
// a shader variant costs seconds.
export const MARKER_SCALE = new Cesium.NearFarScalar(120, 1.15, 2500, 0.7);
export const NO_SCALE = new Cesium.NearFarScalar(1, 1, 1e7, 1);
export const ON_TOP = Number.POSITIVE_INFINITY;

/** A BillboardCollection drawn in the translucent pass only. */
export function billboardCollection() {
  return new Cesium.BillboardCollection({ blendOption: Cesium.BlendOption.TRANSLUCENT });
}

/** A PointPrimitiveCollection drawn in the translucent pass only. */
export function pointCollection() {
  return new Cesium.PointPrimitiveCollection({ blendOption: Cesium.BlendOption.TRANSLUCENT });
}
