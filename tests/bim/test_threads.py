"""bim.parallel: products triangulated in worker processes give the same model as one process."""

from __future__ import annotations

import multiprocessing
import os
import time

import numpy as np
import pytest

from bim.convert import convert_ifc
from bim.open import open_ifc
from bim.parallel import Triangulator, triangulate
from tests.bim.helpers import fixture
from tiles.parallel import idle_cores


def _spin(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def test_idle_cores_stay_within_the_usable_cores() -> None:
    assert 1 <= idle_cores() <= len(os.sched_getaffinity(0))


def test_every_core_busy_means_one_worker() -> None:
    cores = len(os.sched_getaffinity(0))
    context = multiprocessing.get_context("fork")
    spinners = [context.Process(target=_spin, args=(3.0,)) for _ in range(cores)]
    for spinner in spinners:
        spinner.start()
    try:
        time.sleep(0.3)  # let them get on the cores
        assert idle_cores() == 1
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


def _shapes(result) -> dict[str, tuple[int, np.ndarray, float]]:  # type: ignore[no-untyped-def]
    """Each element's triangle count, bounds and area (vertex order and frame may differ between runs)."""
    out = {}
    for mesh in result.meshes:
        positions = np.asarray(mesh.positions, dtype=np.float64)
        corners = positions[np.asarray(mesh.indices).reshape(-1, 3)]
        area = float(np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1).sum() / 2)
        out[mesh.key] = (len(corners), np.concatenate([positions.min(axis=0), positions.max(axis=0)]), area)
    return out


@pytest.mark.parametrize("name", ["Office_A_20110811.ifc", "Ifc2s3_Duplex_Electrical.ifc"])
def test_worker_processes_give_the_same_model(name: str) -> None:
    one = convert_ifc(fixture(name), processes=1)
    two = convert_ifc(fixture(name), processes=2)
    assert one.stats["products"] == two.stats["products"]
    assert [e.global_id for e in one.elements] == [e.global_id for e in two.elements]
    a, b = _shapes(one), _shapes(two)
    assert a.keys() == b.keys() and len(a) > 50
    for key, (count, bounds, area) in a.items():
        assert count == b[key][0], key
        assert np.allclose(bounds, b[key][1], atol=1e-4), key
        assert area == pytest.approx(b[key][2], rel=1e-6, abs=1e-8), key
    assert one.warnings == two.warnings


def test_a_worker_that_dies_loses_nothing() -> None:
    # In a fresh process: workers are only forked from a process with no other thread, and earlier
    # tests in this session may have left some (a TestClient's portal), which would make this test moot.
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_a_worker_dies)  # not a Pool: its workers are daemons, which cannot fork
    child.start()
    child.join(300)
    assert child.exitcode == 0, "the check failed in the child process (its traceback is in the captured stderr)"


def _a_worker_dies() -> None:
    model = open_ifc(fixture("Office_A_20110811.ifc"))
    expected = sorted(shape.step_id for shape in triangulate(model, processes=1))
    with Triangulator(model, processes=2) as job:
        assert len(job.running) == 2, "Office_A has enough products for two workers"
        _, victim = next(iter(job.running.values()))
        victim.kill()  # as a kernel crash would
        shapes = job.result()
    assert sorted(shape.step_id for shape in shapes) == expected
