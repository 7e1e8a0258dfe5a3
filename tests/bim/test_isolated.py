"""bim.isolated: a conversion in a child process; a kernel crash is retried, user errors pass through."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bim.errors import KernelCrash, UnsupportedSchema
from bim.geometry import FALLBACK_LIBRARY
from bim.isolated import _worker, convert_ifc_isolated
from tests.bim.helpers import IFC_BAD, fixture


def crash_unless_fallback(connection, path, anchor, threads, library) -> None:
    """Dies like a segfaulting kernel except with the fallback library (runs in the child)."""
    if library != FALLBACK_LIBRARY:
        os.kill(os.getpid(), signal.SIGSEGV)
    _worker(connection, path, anchor, threads, library)


def always_crash(connection, path, anchor, threads, library) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def test_kernel_crash_is_retried_with_opencascade_and_the_result_comes_back() -> None:
    phases: list[str] = []
    result = convert_ifc_isolated(
        fixture("geographic-referencing-utm_IFC4X3.ifc"),
        worker=crash_unless_fallback,
        progress=lambda phase, _: phases.append(phase),
    )
    assert len(result.meshes) == 1 and result.georef.crs == "EPSG:25832"
    assert any("SIGSEGV" in warning for warning in result.warnings)
    assert list(dict.fromkeys(phases)) == ["validate", "georef", "geometry", "metadata"]


def test_crash_with_every_kernel_is_a_clear_error() -> None:
    with pytest.raises(KernelCrash, match="SIGSEGV"):
        convert_ifc_isolated(fixture("geographic-referencing-utm_IFC4X3.ifc"), worker=always_crash)


def test_user_errors_pass_through_unchanged() -> None:
    path = IFC_BAD / "KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc"
    if not path.is_file():
        pytest.skip("shared fixtures missing")
    with pytest.raises(UnsupportedSchema, match="unsupported schema IFC4X3_RC2"):
        convert_ifc_isolated(Path(path))
