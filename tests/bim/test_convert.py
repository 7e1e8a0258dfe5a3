"""bim.convert / bim.geometry / bim.elements on real models: geometry, colours, units, metadata, tiles."""

from __future__ import annotations

import shutil
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.aggregate
import ifcopenshell.api.context
import ifcopenshell.api.root
import ifcopenshell.api.unit
import ifcopenshell.util.representation
import numpy as np
import pytest

from bim.convert import BimResult, convert_ifc, footprint_to_wgs84, store_rows, write_ifc_tiles
from bim.elements import read_model_info
from bim.errors import MissingGeoreference, NoGeometry
from bim.georef import Anchor, model_to_wgs84
from bim.open import open_ifc
from bim.units import length_unit_m
from tests.bim.helpers import degrees_apart_m, fixture, srgb_to_linear


@pytest.fixture(scope="module")
def fzk() -> BimResult:
    phases: list[tuple[str, float]] = []
    result = convert_ifc(fixture("AC20-FZK-Haus.ifc"), progress=lambda phase, fraction: phases.append((phase, fraction)))
    result.stats["_phases"] = phases  # type: ignore[assignment]
    return result


@pytest.fixture(scope="module")
def fzk_model() -> ifcopenshell.file:
    return ifcopenshell.open(str(fixture("AC20-FZK-Haus.ifc")))


def body_products(model: ifcopenshell.file) -> set[str]:
    """GlobalIds of products with a 3D Body representation, openings and annotations aside (independent of bim)."""
    ids = set()
    for product in model.by_type("IfcProduct"):
        if product.is_a("IfcOpeningElement") or product.is_a("IfcAnnotation") or product.is_a("IfcVirtualElement"):
            continue
        for representation in product.Representation.Representations if product.Representation else ():
            context = representation.ContextOfItems
            context_type = context.ContextType or getattr(getattr(context, "ParentContext", None), "ContextType", None)
            if representation.RepresentationIdentifier == "Body" and context_type == "Model":
                ids.add(product.GlobalId)
    return ids


def test_every_product_with_body_geometry_gets_one_mesh(fzk: BimResult, fzk_model: ifcopenshell.file) -> None:
    assert fzk.stats["products"] == 127
    keys = [mesh.key for mesh in fzk.meshes]
    assert len(keys) == len(set(keys))
    assert set(keys) == body_products(fzk_model)
    assert not any(fzk_model.by_guid(key).is_a("IfcOpeningElement") for key in keys)
    assert all(mesh.positions.dtype == np.float32 and mesh.indices.dtype == np.uint32 for mesh in fzk.meshes)
    assert all(len(mesh.indices) % 3 == 0 and mesh.indices.max() < len(mesh.positions) for mesh in fzk.meshes)
    # The 42 rafters share one representation: triangulated once.
    assert fzk.stats["triangulations"] < len(fzk.meshes)


def test_progress_reports_every_phase_in_order(fzk: BimResult) -> None:
    phases = fzk.stats["_phases"]
    order = list(dict.fromkeys(phase for phase, _ in phases))  # type: ignore[union-attr]
    assert order == ["validate", "georef", "geometry", "metadata"]
    assert all(0.0 <= fraction <= 1.0 for _, fraction in phases)  # type: ignore[union-attr]
    assert phases[-1] == ("metadata", 1.0)  # type: ignore[index]


def test_wall_colours_come_from_their_ifc_styles(fzk: BimResult, fzk_model: ifcopenshell.file) -> None:
    by_key = {mesh.key: mesh for mesh in fzk.meshes}
    walls = fzk_model.by_type("IfcWallStandardCase")
    checked = 0
    for wall in walls:
        body = ifcopenshell.util.representation.get_representation(wall, "Model", "Body")
        styled = [s for item in body.Items for s in (item.StyledByItem or ())]
        if not styled:
            continue
        surface_style = styled[0].Styles[0]
        if surface_style.is_a("IfcPresentationStyleAssignment"):  # the IFC2X3 wrapper, still used in IFC4 files
            surface_style = surface_style.Styles[0]
        shading = next(s for s in surface_style.Styles if s.is_a("IfcSurfaceStyleShading"))
        colour = [shading.SurfaceColour.Red, shading.SurfaceColour.Green, shading.SurfaceColour.Blue]
        diffuse = getattr(shading, "DiffuseColour", None)
        if diffuse is not None and diffuse.is_a("IfcNormalisedRatioMeasure"):
            colour = [c * diffuse.wrappedValue for c in colour]  # a ratio scales the surface colour
        elif diffuse is not None and diffuse.is_a("IfcColourRgb"):
            colour = [diffuse.Red, diffuse.Green, diffuse.Blue]
        expected = [srgb_to_linear(c) for c in colour]
        assert by_key[wall.GlobalId].color[:3] == pytest.approx(expected, abs=1e-6)
        checked += 1
    assert checked >= 5  # 9 of the 13 walls carry a style on their body item


def test_spaces_are_translucent_features(fzk: BimResult) -> None:
    spaces = [m for m in fzk.meshes if m.properties["ifc_class"] == "IfcSpace"]
    assert len(spaces) == 7 and all(m.color[3] <= 0.25 for m in spaces)
    assert {s.long_name for s in fzk.spaces} >= {"Schlafzimmer", "Bad"}


def test_mesh_properties_and_storey_groups(fzk: BimResult) -> None:
    storeys = {s.name: s for s in fzk.storeys}
    assert list(storeys) == ["Erdgeschoss", "Dachgeschoss"]
    assert storeys["Dachgeschoss"].elevation == pytest.approx(2.7)
    for mesh in fzk.meshes:
        assert mesh.properties["GlobalId"] == mesh.key
        assert mesh.group == mesh.properties["storey"]
        if mesh.properties["ifc_class"] != "IfcSite":
            assert mesh.properties["storey"] in storeys
            assert mesh.properties["storey_index"] == storeys[mesh.properties["storey"]].index
        assert all(v is None or isinstance(v, (str, int, float)) for v in mesh.properties.values())


def test_element_metadata_footprints_and_heights(fzk: BimResult) -> None:
    by_id = {e.global_id: e for e in fzk.elements}
    wall = by_id["2XPyKWY018sA1ygZKgQPtU"]  # Wand-Int-ERDG-4
    quantities = wall.psets["BaseQuantities"]
    assert wall.footprint.area == pytest.approx(quantities["GrossFootprintArea"], rel=0.02)
    assert wall.z_max - wall.z_min == pytest.approx(quantities["Height"], abs=0.01)
    assert wall.storey == "Erdgeschoss" and wall.storey_elevation == pytest.approx(0.0)
    assert "Pset_WallCommon" in wall.psets
    windows = [e for e in fzk.elements if e.ifc_class == "IfcWindow"]
    assert windows and all(e.footprint is not None and e.footprint.is_valid for e in windows)
    rooms = [e for e in fzk.elements if e.ifc_class == "IfcSpace"]
    assert all(e.space is None and e.storey for e in rooms)


def test_geometry_lands_on_the_site_position(fzk: BimResult) -> None:
    # The tileset origin is at the model's plan centre; the house is ~12 m wide around it.
    assert degrees_apart_m(fzk.origin.lon, fzk.origin.lat, fzk.georef.lon, fzk.georef.lat) < 30.0
    lo = np.min([m.positions.min(axis=0) for m in fzk.meshes], axis=0)
    hi = np.max([m.positions.max(axis=0) for m in fzk.meshes], axis=0)
    assert np.all(hi - lo < 40.0) and lo[2] == pytest.approx(0.0, abs=1e-3)
    polygon = footprint_to_wgs84(fzk.georef, next(e.footprint for e in fzk.elements if e.ifc_class == "IfcSlab"))
    assert abs(polygon.centroid.x - 8.4365) < 0.001 and abs(polygon.centroid.y - 49.1004) < 0.001


def test_feet_model_comes_out_in_metres() -> None:
    path = fixture("Ifc2s3_Duplex_Electrical.ifc")
    assert length_unit_m(ifcopenshell.open(str(path))) == pytest.approx(0.3048)
    result = convert_ifc(path)
    elevations = [s.elevation for s in result.storeys]
    gaps = np.diff(sorted(elevations))
    assert len(gaps) == 2 and np.all((gaps > 2.5) & (gaps < 4.0))  # ~10 ft storeys, not 10 m
    lo = np.min([m.positions.min(axis=0) for m in result.meshes], axis=0)
    hi = np.max([m.positions.max(axis=0) for m in result.meshes], axis=0)
    assert 5.0 < hi[2] - lo[2] < 12.0 and 10.0 < hi[0] - lo[0] < 30.0
    fixtures = [e for e in result.elements if e.ifc_class == "IfcFlowTerminal" and e.storey == "Level 1"]
    assert fixtures and all(-0.5 < e.z_min and e.z_max < 3.5 for e in fixtures)


def test_ifczip_gives_the_same_elements(tmp_path: Path, fzk: BimResult) -> None:
    upload = tmp_path / "house.ifczip"
    shutil.copy(fixture("AC20-FZK-Haus.ifczip"), upload)
    zipped = read_model_info(open_ifc(upload))
    assert {e.global_id for e in zipped.elements} == {e.global_id for e in fzk.elements}


def test_model_without_geometry_is_refused(tmp_path: Path) -> None:
    model = ifcopenshell.file(schema="IFC4")
    project = ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="Empty")
    ifcopenshell.api.unit.assign_unit(model)
    ifcopenshell.api.context.add_context(model, context_type="Model")
    site = ifcopenshell.api.root.create_entity(model, ifc_class="IfcSite", name="Site")
    building = ifcopenshell.api.root.create_entity(model, ifc_class="IfcBuilding", name="Building")
    ifcopenshell.api.aggregate.assign_object(model, products=[site], relating_object=project)
    ifcopenshell.api.aggregate.assign_object(model, products=[building], relating_object=site)
    path = tmp_path / "empty.ifc"
    model.write(str(path))
    with pytest.raises(NoGeometry, match="no product with 3D geometry"):
        convert_ifc(path, anchor=Anchor(104.0, 30.6))
    with pytest.raises(NoGeometry):
        convert_ifc(path)  # no geometry is the first thing to say, before the missing georeference


def test_model_without_georeference_needs_an_anchor(tmp_path: Path) -> None:
    text = fixture("geographic-referencing-utm_IFC4X3.ifc").read_text()
    kept = [line for line in text.splitlines() if not line.startswith(("#1=", "#2=", "#3="))]
    path = tmp_path / "nowhere.ifc"
    path.write_text("\n".join(kept).replace("(49,5,43,983700),(8,26,1,247300)", "$,$"))
    with pytest.raises(MissingGeoreference, match="anchor"):
        convert_ifc(path)
    result = convert_ifc(path, anchor=Anchor(104.0657, 30.6595, 500.0))
    assert result.georef.source == "anchor" and len(result.meshes) == 1
    lon, lat, h = model_to_wgs84(result.georef, np.zeros((1, 3)))
    assert degrees_apart_m(lon[0], lat[0], 104.0657, 30.6595) < 0.05 and h[0] == pytest.approx(500.0)


def test_tiles_validate_and_hold_every_element_once(fzk: BimResult, tmp_path: Path) -> None:
    validate = pytest.importorskip("tiles.validate")
    if not validate.validator_available():
        pytest.skip("glTF validator (node + web/node_modules/gltf-validator) not installed")
    tileset_path = write_ifc_tiles(fzk, tmp_path / "tiles")
    import json

    tileset = json.loads(tileset_path.read_text())

    def resolve(uri: str) -> bytes | None:
        path = tileset_path.parent / uri
        return path.read_bytes() if path.is_file() else None

    assert validate.check_tileset(tileset, resolve) == []
    glbs = sorted(tileset_path.parent.rglob("*.glb"))
    assert glbs
    for report in validate.validate_glb(glbs):
        assert report["errors"] == 0, report
    keys = validate.collect_keys(tileset, resolve)
    assert sorted(keys) == sorted(mesh.key for mesh in fzk.meshes)
    decoded = validate.decode_glb(glbs[0].read_bytes())
    assert {"storey", "GlobalId", "ifc_class"} <= set(decoded["properties"])


def test_surface_models_the_fast_kernel_drops_are_triangulated_again() -> None:
    # The hybrid kernel leaves 10 IfcFaceBasedSurfaceModel cabinets of this model empty; they must
    # come back through the OpenCASCADE fallback, not vanish silently.
    path = fixture("Duplex_A_20110907_georeferenced.ifc")
    model = ifcopenshell.open(str(path))
    result = convert_ifc(path)
    assert {mesh.key for mesh in result.meshes} == body_products(model)
    furniture = [m for m in result.meshes if m.properties["ifc_class"] == "IfcFurnishingElement"]
    assert len(furniture) == len(model.by_type("IfcFurnishingElement"))
    assert not any("gave no triangles" in warning for warning in result.warnings)


def test_store_rows_for_the_database(fzk: BimResult) -> None:
    rows = store_rows(fzk)
    assert len(rows) == len(fzk.elements)
    slab = next(row for row in rows if row["ifc_class"] == "IfcSlab")
    centre = slab["footprint_wgs84"].centroid
    assert degrees_apart_m(centre.x, centre.y, 8.4365, 49.1004) < 30.0
    element = next(e for e in fzk.elements if e.global_id == slab["global_id"])
    assert slab["base_height"] == pytest.approx(110.0 + element.z_min, abs=1e-6)  # RefElevation 110 m
    assert slab["top_height"] - slab["base_height"] == pytest.approx(element.z_max - element.z_min)
    site = next(row for row in rows if row["ifc_class"] == "IfcSite")
    assert site["storey"] is None
    import json

    json.dumps([row["psets"] for row in rows])  # JSON-safe
