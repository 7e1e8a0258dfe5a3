"""Triangulate a model's products in forked worker processes, each taking a share of the products.

Triangulation dominates a conversion, and ifcopenshell's iterator threads did not speed it up here;
processes do. Workers are forked so they share the parsed model copy-on-write (no second parse,
no import cost), which is only safe in a process with no other thread: elsewhere, or when the
model is small, the products are triangulated in this process as before.

A worker that dies (a C++ kernel crash) loses nothing: its share is triangulated again here, where
a crash is handled like any other (bim.isolated retries the whole file with OpenCASCADE).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Collection
from multiprocessing.connection import Connection, wait

import ifcopenshell

from bim.geometry import (
    EXCLUDED_CLASSES,
    GEOMETRY_LIBRARY,
    ShapeInstance,
    content_digest,
    iterate_shapes,
    prepare_footprints,
)
from tiles.parallel import can_fork, die_with_parent, idle_cores

MIN_PRODUCTS_PER_WORKER = 40  # below this a fork costs more than it saves
POLL_S = 0.1  # how often progress is gathered from the workers

_shared_model: ifcopenshell.file | None = None  # set before fork: the workers' copy of the parsed model


def triangulate(
    model: ifcopenshell.file,
    *,
    processes: int | None = None,
    threads: int | None = None,
    geometry_library: str = GEOMETRY_LIBRARY,
    progress: Callable[[int], None] | None = None,
    expected: Collection[int] = (),
) -> list[ShapeInstance]:
    """Every product's ShapeInstance (what bim.geometry.iterate_shapes yields), ordered by step id."""
    with Triangulator(model, processes=processes, threads=threads, geometry_library=geometry_library, expected=expected) as job:
        return job.result(progress)


class Triangulator:
    """Triangulation of a model's products, started in worker processes on creation, so this process
    can do other work (read the model's metadata) until `result()`. Use it as a context manager:
    leaving it stops workers whose result was not collected.

    `processes` defaults to the cores idle now; `progress(done)` counts products triangulated.
    """

    def __init__(
        self,
        model: ifcopenshell.file,
        *,
        processes: int | None = None,
        threads: int | None = None,
        geometry_library: str = GEOMETRY_LIBRARY,
        expected: Collection[int] = (),
    ) -> None:
        self.model, self.threads, self.library, self.expected = model, threads, geometry_library, set(expected)
        candidates = sorted(
            (p for p in model.by_type("IfcProduct") if p.Representation is not None and not any(p.is_a(c) for c in EXCLUDED_CLASSES)),
            key=lambda p: p.id(),
        )
        self.shares: list[list] = []
        self.running: dict[Connection, tuple[int, multiprocessing.process.BaseProcess]] = {}
        most = len(candidates) // MIN_PRODUCTS_PER_WORKER
        if most < 2 or not can_fork():
            return  # result() triangulates in this process (and small models skip the idle-core sample)
        workers = min(processes or idle_cores(), most)
        if workers < 2:
            return
        # Interleaved shares: neighbouring products (often one storey, one kind) spread over all workers.
        self.shares = [candidates[k::workers] for k in range(workers)]
        context = multiprocessing.get_context("fork")
        self.counts = context.RawArray("q", workers)  # products done per worker, for progress
        global _shared_model
        _shared_model = model
        try:
            for k, share in enumerate(self.shares):
                ids = [p.id() for p in share]
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_work, daemon=True,
                    args=(sender, os.getpid(), ids, [i for i in ids if i in self.expected], k, self.counts, threads, geometry_library),
                )
                process.start()
                sender.close()  # so recv() sees EOF if the worker dies
                self.running[receiver] = (k, process)
        finally:
            _shared_model = None  # the workers have their copy

    def result(self, progress: Callable[[int], None] | None = None) -> list[ShapeInstance]:
        """Wait for the workers (reporting progress) and merge their shapes, ordered by step id."""
        if not self.shares:
            shapes = iterate_shapes(self.model, threads=self.threads, geometry_library=self.library, progress=progress, expected=self.expected)
            return sorted(shapes, key=lambda shape: shape.step_id)
        results: list[list[ShapeInstance] | None] = [None] * len(self.shares)
        while self.running:
            for receiver in wait(list(self.running), timeout=POLL_S):
                k, process = self.running.pop(receiver)
                try:
                    results[k] = receiver.recv()
                except EOFError:  # the worker died: its share is redone below
                    results[k] = None
                receiver.close()
                process.join()
            if progress is not None:
                progress(sum(self.counts))
        shapes: list[ShapeInstance] = []
        for share, result in zip(self.shares, results):
            if result is None:
                ids = {p.id() for p in share}
                result = list(iterate_shapes(self.model, threads=self.threads, geometry_library=self.library,
                                             products=share, expected=ids & self.expected))
            shapes.extend(result)
        _share_equal_triangulations(shapes)
        return sorted(shapes, key=lambda shape: shape.step_id)

    def close(self) -> None:
        """Stop the workers still running (after an error in this process)."""
        for receiver, (_, process) in self.running.items():
            process.kill()
            process.join()
            receiver.close()
        self.running.clear()

    def __enter__(self) -> Triangulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _work(connection: Connection, parent: int, ids: list[int], expected: list[int], slot: int, counts, threads: int | None, library: str) -> None:
    """Worker: triangulate the products `ids` of the inherited model and send the ShapeInstances back."""
    die_with_parent(parent)
    model = _shared_model
    assert model is not None

    def done(count: int) -> None:
        counts[slot] = count

    shapes = list(iterate_shapes(model, threads=threads, geometry_library=library, progress=done,
                                 products=[model.by_id(i) for i in ids], expected=expected))
    prepare_footprints(shapes)  # here, in parallel, rather than in the parent afterwards
    connection.send(shapes)
    connection.close()


def _share_equal_triangulations(shapes: list[ShapeInstance]) -> None:
    """Workers each share equal geometry among their own products; share it across workers too."""
    by_content = {}
    for shape in shapes:
        shape.triangulation = by_content.setdefault(content_digest(shape.triangulation), shape.triangulation)
