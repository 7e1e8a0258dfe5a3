// Small planar geometry on WGS84 lon/lat (a park is small enough for planar tests).

/** True when [lon, lat] lies inside a GeoJSON Polygon / MultiPolygon (ray casting, holes respected). */
export function contains(geometry, [x, y]) {
  const polygons = geometry?.type === "Polygon" ? [geometry.coordinates] : geometry?.type === "MultiPolygon" ? geometry.coordinates : [];
  return polygons.some(([outer, ...holes]) => inRing(outer, x, y) && !holes.some((hole) => inRing(hole, x, y)));
}

function inRing(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** [w, s, e, n] of a GeoJSON geometry, or null when it has no coordinates. */
export function bboxOf(geometry) {
  const points = [];
  const walk = (c) => (typeof c[0] === "number" ? points.push(c) : c.forEach(walk));
  walk(geometry?.coordinates || []);
  return points.length ? bboxOfPoints(points) : null;
}

/** [w, s, e, n] of [[lon, lat], ...]. */
export function bboxOfPoints(points) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of points) {
    w = Math.min(w, x); s = Math.min(s, y); e = Math.max(e, x); n = Math.max(n, y);
  }
  return [w, s, e, n];
}

/** A bbox grown by d degrees on every side. */
export const pad = ([w, s, e, n], d) => [w - d, s - d, e + d, n + d];
