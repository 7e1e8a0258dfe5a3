"""bim.elements' one-pass readers against ifcopenshell.util.element's per-element answers."""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.util.element as util
import pytest

from bim.elements import _json_safe, read_model_info
from tests.bim.helpers import fixture


@pytest.mark.parametrize("name", ["Duplex_A_20110907_georeferenced.ifc", "IFC-AC-Components.ifc"])
def test_bulk_metadata_matches_ifcopenshell_util(name: str) -> None:
    model = ifcopenshell.open(str(fixture(name)))
    info = read_model_info(model)
    assert len(info.elements) > 200
    for element in info.elements:
        product = model.by_guid(element.global_id)
        expected_psets = {
            pset: {k: _json_safe(v) for k, v in props.items() if k != "id"}
            for pset, props in util.get_psets(product).items()
        }
        assert element.psets == expected_psets
        assert element.predefined_type == (util.get_predefined_type(product) or None)
        element_type = util.get_type(product)
        assert element.type_name == (element_type.Name if element_type else None)
        storey = util.get_container(product, ifc_class="IfcBuildingStorey")
        if storey is not None:
            assert element.storey == storey.Name
        assert element.name == product.Name and element.ifc_class == product.is_a()
    assert not any(e.ifc_class in ("IfcOpeningElement", "IfcBuildingStorey", "IfcBuilding") for e in info.elements)


def test_storeys_and_spaces_of_the_duplex() -> None:
    info = read_model_info(ifcopenshell.open(str(fixture("Duplex_A_20110907_georeferenced.ifc"))))
    assert [(s.name, s.index) for s in info.storeys] == [("T/FDN", 0), ("Level 1", 1), ("Level 2", 2), ("Roof", 3)]
    assert [s.elevation for s in info.storeys] == sorted(s.elevation for s in info.storeys)
    assert len(info.spaces) == 21 and all(s.storey for s in info.spaces)
    kitchen = next(s for s in info.spaces if s.long_name == "Kitchen")
    assert kitchen.storey == "Level 1"
