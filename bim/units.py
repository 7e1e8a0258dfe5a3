"""Length units of an IFC model (project units and the units of a map CRS), as metres per unit."""

from __future__ import annotations

import ifcopenshell
import ifcopenshell.util.unit


def length_unit_m(model: ifcopenshell.file) -> float:
    """Metres per project length unit (1.0 for METRE, 0.001 for MILLIMETRE, 0.3048 for a FOOT conversion-based unit)."""
    # calculate_unit_scale follows IfcConversionBasedUnit (IFC2X3 FOOT, INCH) down to its SI unit.
    scale = float(ifcopenshell.util.unit.calculate_unit_scale(model, "LENGTHUNIT"))
    return scale if scale > 0 else 1.0


def named_unit_m(unit: ifcopenshell.entity_instance | None) -> float | None:
    """Metres per unit for an IfcNamedUnit (e.g. IfcProjectedCRS.MapUnit), or None if not given or not a length."""
    if unit is None or getattr(unit, "UnitType", None) != "LENGTHUNIT":
        return None
    scale = float(ifcopenshell.util.unit.get_unit_scale(unit))
    return scale if scale > 0 else None


def length_unit_name(model: ifcopenshell.file) -> str:
    """Human-readable name of the project length unit, e.g. 'MILLIMETRE' or 'FOOT' (for reports)."""
    unit = ifcopenshell.util.unit.get_project_unit(model, "LENGTHUNIT")
    if unit is None:
        return "METRE"
    if unit.is_a("IfcSIUnit"):
        return f"{unit.Prefix or ''}{unit.Name}"
    return str(getattr(unit, "Name", "") or unit.is_a())
