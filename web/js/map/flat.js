// Flat geometry on the park's ground. The map draws on the bare WGS84 ellipsoid (no terrain), so
// ground layers are exact as ordinary primitives a few centimetres above it, stacked by height.
// (GroundPrimitive's shadow volumes cost ~7 s per frame under software WebGL; these cost ~nothing.)
const Cesium = window.Cesium;

const degrees = (ring) => Cesium.Cartesian3.fromDegreesArray(ring.flatMap(([x, y]) => [x, y]));

/** Geometry instances filling a GeoJSON geometry at `height` m: polygons as they are, lines as
 * corridors `width` m wide, points as discs of `radius` m. */
export function fillInstances(geometry, { id, colour, height = 0.1, width = 4, radius = 5 }) {
  if (!geometry) return [];
  const attributes = { color: Cesium.ColorGeometryInstanceAttribute.fromColor(colour) };
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  const lines = geometry.type === "LineString" ? [geometry.coordinates] : geometry.type === "MultiLineString" ? geometry.coordinates : [];
  const points = geometry.type === "Point" ? [geometry.coordinates] : geometry.type === "MultiPoint" ? geometry.coordinates : [];
  return [
    ...polygons.filter((rings) => rings[0]?.length >= 4).map(([outer, ...holes]) => new Cesium.GeometryInstance({
      id,
      geometry: new Cesium.PolygonGeometry({
        polygonHierarchy: new Cesium.PolygonHierarchy(degrees(outer), holes.map((hole) => new Cesium.PolygonHierarchy(degrees(hole)))),
        height,
        vertexFormat: Cesium.PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
      }),
      attributes,
    })),
    ...lines.filter((line) => line.length >= 2).map((line) => new Cesium.GeometryInstance({
      id,
      geometry: new Cesium.CorridorGeometry({
        positions: degrees(line), width, height, cornerType: Cesium.CornerType.ROUNDED,
        vertexFormat: Cesium.PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
      }),
      attributes,
    })),
    ...points.map(([x, y]) => new Cesium.GeometryInstance({
      id,
      geometry: new Cesium.EllipseGeometry({
        center: Cesium.Cartesian3.fromDegrees(x, y), semiMajorAxis: radius, semiMinorAxis: radius, height,
        vertexFormat: Cesium.PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
      }),
      attributes,
    })),
  ];
}

/** One primitive for many filled instances (translucent when any colour is). */
export function fillPrimitive(instances, { translucent = true } = {}) {
  return new Cesium.Primitive({
    geometryInstances: instances,
    appearance: new Cesium.PerInstanceColorAppearance({ flat: true, translucent }),
    asynchronous: false,
    releaseGeometryInstances: true,
  });
}

/** Polyline instances along polygon rings / lines at `height` m (width in pixels: a marking). */
export function outlineInstances(geometry, { colour, height = 0.4, width = 2 }) {
  if (!geometry) return [];
  const rings = geometry.type === "Polygon" ? [geometry.coordinates[0]]
    : geometry.type === "MultiPolygon" ? geometry.coordinates.map((p) => p[0])
      : geometry.type === "LineString" ? [geometry.coordinates]
        : geometry.type === "MultiLineString" ? geometry.coordinates : [];
  return rings.filter((ring) => ring.length >= 2).map((ring) => new Cesium.GeometryInstance({
    geometry: new Cesium.PolylineGeometry({
      positions: Cesium.Cartesian3.fromDegreesArrayHeights(ring.flatMap(([x, y]) => [x, y, height])),
      width,
      arcType: Cesium.ArcType.GEODESIC,
      vertexFormat: Cesium.PolylineMaterialAppearance.VERTEX_FORMAT,
    }),
    attributes: colour ? { color: Cesium.ColorGeometryInstanceAttribute.fromColor(colour) } : undefined,
  }));
}

/** One primitive for polylines: solid per-instance colours, or one dashed colour. */
export function outlinePrimitive(instances, { dash = null } = {}) {
  const appearance = dash
    ? new Cesium.PolylineMaterialAppearance({ material: Cesium.Material.fromType("PolylineDash", { color: dash, dashLength: 16 }) })
    : new Cesium.PolylineColorAppearance({ translucent: true });
  return new Cesium.Primitive({ geometryInstances: instances, appearance, asynchronous: false });
}
