"""Run convert_ifc in a child process, so a crash of the C++ geometry kernel fails one job, not the service.

ifcopenshell's kernels can die with SIGSEGV on some files (the hybrid CGAL/OpenCASCADE kernel is
reported to in IfcOpenShell issue #7503; "manifold" does on the Duplex fixture). A crash with the
fast kernel is retried once with OpenCASCADE alone.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from pathlib import Path

from bim.convert import BimResult, Progress, convert_ifc
from bim.errors import BimError, ConversionTimeout, KernelCrash
from bim.geometry import FALLBACK_LIBRARY, GEOMETRY_LIBRARY
from bim.georef import Anchor

# "spawn": the service process has threads (web server, DB pool) and fork would copy their locks.
_CONTEXT = multiprocessing.get_context("spawn")


def convert_ifc_isolated(
    path: Path,
    *,
    anchor: Anchor | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    timeout_s: float | None = None,
    worker: Callable | None = None,
) -> BimResult:
    """convert_ifc in a child process; same result and errors, plus KernelCrash and ConversionTimeout.

    `worker` replaces the child's entry point (tests use it to simulate a crash).
    """
    target = worker or _worker
    crashes: list[str] = []
    for library in (GEOMETRY_LIBRARY, FALLBACK_LIBRARY):
        outcome = _run_child(target, Path(path), anchor, threads, library, progress, timeout_s)
        if isinstance(outcome, BimResult):
            if crashes:
                outcome.warnings.append(f"geometry kernel {crashes[-1]}; converted again with {library}")
            return outcome
        if isinstance(outcome, BaseException):
            raise outcome
        crashes.append(f"{library} crashed ({outcome})")
    raise KernelCrash(f"the geometry kernel crashed on this file: {'; '.join(crashes)}")


def _run_child(target, path, anchor, threads, library, progress, timeout_s) -> BimResult | BaseException | str:
    """One child run: the result, the exception it raised, or a description of how it died."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=target, args=(sender, str(path), anchor, threads, library), daemon=True)
    process.start()
    sender.close()  # so recv() sees EOF when the child dies
    try:
        while True:
            if not receiver.poll(timeout_s):
                process.kill()
                raise ConversionTimeout(f"the IFC conversion took longer than {timeout_s:g} s and was stopped")
            try:
                kind, *payload = receiver.recv()
            except EOFError:
                break
            if kind == "progress" and progress is not None:
                progress(*payload)
            elif kind in ("result", "error"):
                return payload[0]
    finally:
        receiver.close()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code} without a result"


def _worker(connection, path: str, anchor: Anchor | None, threads: int | None, library: str) -> None:
    """Child entry point: convert and send ("progress", phase, fraction)... then ("result", r) or ("error", e)."""
    # The parent still sees a daemon (killed if the service exits); inside, the flag only stops this
    # process from starting the geometry workers of bim.parallel, which it must.
    multiprocessing.current_process().daemon = False
    try:
        result = convert_ifc(
            Path(path),
            anchor=anchor,
            threads=threads,
            geometry_library=library,
            progress=lambda phase, fraction: connection.send(("progress", phase, fraction)),
        )
        connection.send(("result", result))
    except BimError as exc:
        connection.send(("error", exc))
    except Exception as exc:  # anything else is a bug: pass it on with its text, it may not pickle
        connection.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        connection.close()
