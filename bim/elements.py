"""Element metadata of an IFC model: identity, spatial container (building, storey, space) and psets.

Heights are metres in the model frame (the geometry iterator's world Z); footprints are
shapely Polygons in model XY metres: the caller projects them with bim.georef.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import ifcopenshell
import ifcopenshell.ifcopenshell_wrapper
import ifcopenshell.util.element
import ifcopenshell.util.placement
from shapely.geometry import Polygon

from bim.geometry import EXCLUDED_CLASSES
from bim.units import length_unit_m

JsonValue = Any  # str | int | float | bool | None | list | dict, nothing else
MAX_PARENT_STEPS = 64  # a guard against cyclic decomposition in broken files
# Spatial structure that organises elements rather than being one; IfcSite and IfcSpace are kept
# as elements because they often carry geometry (terrain, rooms).
CONTAINER_CLASSES = ("IfcBuilding", "IfcBuildingStorey")


@dataclass
class Storey:
    """A building storey: its elevation is the placement's Z in model metres (the frame of z_min/z_max)."""

    global_id: str
    name: str
    elevation: float
    index: int  # 0 = lowest storey of its building
    building: str | None


@dataclass
class Space:
    """An IfcSpace (room): Name is usually the room number, LongName the room name."""

    global_id: str
    name: str | None
    long_name: str | None
    storey: str | None
    building: str | None


@dataclass
class Element:
    """One IFC product with its spatial context, property sets and plan footprint (model metres)."""

    global_id: str
    ifc_class: str
    name: str | None
    description: str | None = None
    object_type: str | None = None
    predefined_type: str | None = None
    type_name: str | None = None
    storey: str | None = None
    storey_global_id: str | None = None
    storey_elevation: float | None = None
    storey_index: int | None = None
    building: str | None = None
    space: str | None = None
    space_global_id: str | None = None
    psets: dict[str, dict[str, JsonValue]] = field(default_factory=dict)
    footprint: Polygon | None = None
    z_min: float | None = None
    z_max: float | None = None


@dataclass
class ModelInfo:
    """Everything read from the model's semantics (no geometry)."""

    storeys: list[Storey]
    spaces: list[Space]
    elements: list[Element]
    buildings: list[str]


def read_model_info(model: ifcopenshell.file) -> ModelInfo:
    """Read storeys, spaces and one Element per product (openings, annotations, buildings, storeys excluded)."""
    unit_m = length_unit_m(model)
    places = _SpatialIndex(model)
    storeys = read_storeys(model, unit_m, places)
    by_storey_id = {storey.global_id: storey for storey in storeys}
    types = _types_by_product(model)
    psets = read_psets(model)
    skipped = {p.id() for cls in EXCLUDED_CLASSES + CONTAINER_CLASSES for p in model.by_type(cls)}
    attributes = _AttributeReader(model)
    labels = _Labels()
    type_info = _TypeInfo()
    elements: list[Element] = []
    spaces: list[Space] = []
    for product in model.by_type("IfcProduct"):
        step_id = product.id()
        if step_id in skipped:
            continue
        info = attributes.read(product)
        space, storey_entity, building = places.locate(product)
        storey = by_storey_id.get(storey_entity.GlobalId) if storey_entity is not None else None
        type_name, type_predefined = type_info.get(types.get(step_id))
        ifc_class = info["type"]
        building_label = labels.get(building)
        elements.append(
            Element(
                global_id=info["GlobalId"],
                ifc_class=ifc_class,
                name=info.get("Name"),
                description=info.get("Description"),
                object_type=info.get("ObjectType"),
                predefined_type=_predefined_type(info, type_predefined),
                type_name=type_name,
                storey=storey.name if storey else None,
                storey_global_id=storey.global_id if storey else None,
                storey_elevation=storey.elevation if storey else None,
                storey_index=storey.index if storey else None,
                building=building_label,
                space=labels.space(space),
                space_global_id=space.GlobalId if space is not None else None,
                psets=psets.get(step_id, {}),
            )
        )
        if ifc_class == "IfcSpace":
            spaces.append(
                Space(
                    global_id=info["GlobalId"],
                    name=info.get("Name"),
                    long_name=info.get("LongName"),
                    storey=storey.name if storey else None,
                    building=building_label,
                )
            )
    buildings = [_label(b) or b.GlobalId for b in model.by_type("IfcBuilding")]
    return ModelInfo(storeys=storeys, spaces=spaces, elements=elements, buildings=buildings)


def read_storeys(
    model: ifcopenshell.file, unit_m: float | None = None, places: _SpatialIndex | None = None
) -> list[Storey]:
    """Building storeys with elevations in model metres, indexed from the lowest within each building."""
    unit_m = length_unit_m(model) if unit_m is None else unit_m
    places = places or _SpatialIndex(model)
    raw: list[tuple[str, str, float, str | None]] = []
    for storey in model.by_type("IfcBuildingStorey"):
        elevation = _placement_z(storey)
        if elevation is None:
            elevation = float(storey.Elevation or 0.0)
        building = places.locate(storey)[2]
        raw.append((storey.GlobalId, storey.Name or storey.LongName or storey.GlobalId, elevation * unit_m, _label(building)))
    storeys: list[Storey] = []
    for building in dict.fromkeys(item[3] for item in raw):
        ordered = sorted((item for item in raw if item[3] == building), key=lambda item: item[2])
        storeys += [Storey(gid, name, elevation, index, building) for index, (gid, name, elevation, _) in enumerate(ordered)]
    return sorted(storeys, key=lambda s: (s.building or "", s.index))


def _placement_z(product: ifcopenshell.entity_instance) -> float | None:
    """World Z of a product's placement in project units, or None without a placement."""
    if product.ObjectPlacement is None:
        return None
    try:
        return float(ifcopenshell.util.placement.get_local_placement(product.ObjectPlacement)[2][3])
    except Exception:  # broken placement chains in the wild; the Elevation attribute is the fallback
        return None


class _AttributeReader:
    """The few attributes an Element needs, read by position: 10x faster than get_info on big models.

    IfcRoot/IfcObject put GlobalId, Name, Description, ObjectType at 0, 2, 3, 4 in every schema;
    PredefinedType and LongName positions differ per class and are looked up once per class.
    """

    OPTIONAL = ("PredefinedType", "LongName")

    def __init__(self, model: ifcopenshell.file) -> None:
        self._schema = ifcopenshell.ifcopenshell_wrapper.schema_by_name(model.schema_identifier)
        self._positions: dict[str, dict[str, int]] = {}

    def read(self, product: ifcopenshell.entity_instance) -> dict[str, Any]:
        ifc_class = product.is_a()
        positions = self._positions.get(ifc_class)
        if positions is None:
            names = [a.name() for a in self._schema.declaration_by_name(ifc_class).all_attributes()]
            positions = self._positions[ifc_class] = {n: names.index(n) for n in self.OPTIONAL if n in names}
        info = {"type": ifc_class, "GlobalId": product[0], "Name": product[2], "Description": product[3],
                "ObjectType": product[4]}
        for name, position in positions.items():
            info[name] = product[position]
        return info


def _types_by_product(model: ifcopenshell.file) -> dict[int, ifcopenshell.entity_instance]:
    """Element type per product step id, from IfcRelDefinesByType in one pass (get_type per product is slow)."""
    types: dict[int, ifcopenshell.entity_instance] = {}
    for rel in model.by_type("IfcRelDefinesByType"):
        for obj in rel.RelatedObjects:
            types[obj.id()] = rel.RelatingType
    return types


class _TypeInfo:
    """(Name, predefined type) of element types, memoised: thousands of occurrences share a few types."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[str | None, str | None]] = {}

    def get(self, element_type: ifcopenshell.entity_instance | None) -> tuple[str | None, str | None]:
        if element_type is None:
            return (None, None)
        found = self._memo.get(element_type.id())
        if found is None:
            value = getattr(element_type, "PredefinedType", None)
            if value == "USERDEFINED" or not value:
                value = getattr(element_type, "ElementType", None)
            found = self._memo[element_type.id()] = (
                element_type.Name,
                str(value) if value and value != "NOTDEFINED" else None,
            )
        return found


class _Labels:
    """Display labels of containers, memoised per entity."""

    def __init__(self) -> None:
        self._memo: dict[int, str | None] = {}

    def get(self, entity: ifcopenshell.entity_instance | None) -> str | None:
        if entity is None:
            return None
        if entity.id() not in self._memo:
            self._memo[entity.id()] = _label(entity)
        return self._memo[entity.id()]

    def space(self, space: ifcopenshell.entity_instance | None) -> str | None:
        if space is None:
            return None
        key = -space.id()  # a separate slot from get(): a space's label is "Name LongName"
        if key not in self._memo:
            self._memo[key] = _space_label(space)
        return self._memo[key]


def _predefined_type(info: dict, type_predefined: str | None) -> str | None:
    """As ifcopenshell.util.element.get_predefined_type: the type's value wins, USERDEFINED reads ObjectType."""
    if type_predefined:
        return type_predefined
    value = info.get("PredefinedType")
    if value == "USERDEFINED" or not value:
        value = info.get("ObjectType")
    return str(value) if value else None


def _label(entity: ifcopenshell.entity_instance | None) -> str | None:
    if entity is None:
        return None
    return entity.Name or getattr(entity, "LongName", None) or None


def _space_label(space: ifcopenshell.entity_instance | None) -> str | None:
    """'101 Office' style label from a space's Name (number) and LongName."""
    if space is None:
        return None
    parts = [p for p in (space.Name, getattr(space, "LongName", None)) if p]
    return " ".join(dict.fromkeys(parts)) or None


class _SpatialIndex:
    """Finds the space, storey and building above any product.

    Parents come from the decomposition relationships read once (the order of
    ifcopenshell.util.element.get_parent: containment, aggregation, nesting, filling, voiding),
    and each parent's answer is memoised.
    """

    def __init__(self, model: ifcopenshell.file) -> None:
        self._parent: dict[int, ifcopenshell.entity_instance] = {}
        relations = (  # lowest priority first: later ones overwrite
            ("IfcRelVoidsElement", "RelatingBuildingElement", "RelatedOpeningElement"),
            ("IfcRelFillsElement", "RelatingOpeningElement", "RelatedBuildingElement"),
            ("IfcRelNests", "RelatingObject", "RelatedObjects"),
            ("IfcRelAggregates", "RelatingObject", "RelatedObjects"),
            ("IfcRelContainedInSpatialStructure", "RelatingStructure", "RelatedElements"),
        )
        for rel_class, whole_attr, parts_attr in relations:
            for rel in model.by_type(rel_class):
                whole, parts = getattr(rel, whole_attr), getattr(rel, parts_attr)
                for part in parts if isinstance(parts, tuple) else (parts,):
                    self._parent[part.id()] = whole
        self._memo: dict[int, tuple] = {}

    def locate(self, product: ifcopenshell.entity_instance) -> tuple:
        """(space, storey, building) entities above `product` (not counting itself), each possibly None."""
        chain: list[ifcopenshell.entity_instance] = []
        current = self._parent.get(product.id())
        found = (None, None, None)
        for _ in range(MAX_PARENT_STEPS):
            if current is None:
                break
            if current.id() in self._memo:
                found = self._memo[current.id()]
                break
            chain.append(current)
            current = self._parent.get(current.id())
        # Resolve from the top down so every parent on the chain is memoised with its own answer.
        space, storey, building = found
        for entity in reversed(chain):
            if entity.is_a("IfcSpace"):
                space = entity
            elif entity.is_a("IfcBuildingStorey"):
                storey, space = entity, None
            elif entity.is_a("IfcBuilding"):
                building, storey, space = entity, None, None
            self._memo[entity.id()] = (space, storey, building)
        return self._memo[chain[0].id()] if chain else found


def read_psets(model: ifcopenshell.file) -> dict[int, dict[str, dict[str, JsonValue]]]:
    """Property and quantity sets per object step id, as ifcopenshell.util.element.get_psets gives them
    (type sets first, occurrence sets override) but read in one pass with shared sets converted once.
    Values are JSON-safe; the sets' internal step ids ("id") are left out."""
    converted: dict[int, dict[str, JsonValue]] = {}

    def definition_props(definition: ifcopenshell.entity_instance) -> dict[str, JsonValue]:
        props = converted.get(definition.id())
        if props is None:
            raw = ifcopenshell.util.element.get_property_definition(definition)
            props = converted[definition.id()] = {
                str(k): _json_safe(v) for k, v in (raw or {}).items() if k != "id"
            }
        return props

    result: dict[int, dict[str, dict[str, JsonValue]]] = {}
    for rel in model.by_type("IfcRelDefinesByType"):
        type_sets: dict[str, dict[str, JsonValue]] = {}
        for definition in rel.RelatingType.HasPropertySets or ():
            type_sets.setdefault(str(definition.Name), {}).update(definition_props(definition))
        if not type_sets:
            continue
        for obj in rel.RelatedObjects:
            target = result.setdefault(obj.id(), {})
            for name, props in type_sets.items():
                target.setdefault(name, {}).update(props)
    for rel in model.by_type("IfcRelDefinesByProperties"):
        definition = rel.RelatingPropertyDefinition
        definitions = definition.wrappedValue if definition.is_a("IfcPropertySetDefinitionSet") else (definition,)
        for obj in rel.RelatedObjects:
            target = result.setdefault(obj.id(), {})
            for item in definitions:
                target.setdefault(str(item.Name), {}).update(definition_props(item))
    return result


def _json_safe(value: Any) -> JsonValue:
    """Property values as JSON-safe Python: tuples -> lists, entities -> 'IfcClass#id', NaN/inf -> None."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items() if k != "id"}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if isinstance(value, ifcopenshell.entity_instance):
        return getattr(value, "Name", None) or f"{value.is_a()}#{value.id()}"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
