"""Pure IFC library: validate and open IFC files, resolve georeferencing, read element metadata
and triangulate geometry into `tiles.mesh.FeatureMesh`es. No database or web code here."""
