"""OGC API – Features (Part 1 Core, GeoJSON; Part 3 filtering with CQL2) over the park's tables."""
