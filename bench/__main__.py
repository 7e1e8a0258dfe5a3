"""Run the benchmarks: `python -m bench` (all) or `python -m bench gis_tiles ifc ...` (some).

Each module prints its own figures and the ratio to the reference tool measured in the same run.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Order: pure libraries first, then service pipelines.
ALL = ["gis_load", "bench_tiles_lib", "bench_gis_tiles", "bench_ifc", "bench_ingest", "bench_ogc", "bench_sta", "bench_web", "bench_scoring", "bench_alarms", "bench_load"]


def main(names: list[str]) -> int:
    chosen = [n if n in ALL or (HERE / f"{n}.py").exists() else f"bench_{n}" for n in names] or ALL
    failed = []
    for name in chosen:
        if not (HERE / f"{name}.py").exists():
            print(f"== {name}: not present, skipped")
            continue
        print(f"\n== {name} " + "=" * (70 - len(name)), flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main()
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        except Exception as exc:  # noqa: BLE001 — one broken benchmark must not hide the others' figures
            print(f"!! {name} failed: {type(exc).__name__}: {exc}")
            failed.append(name)
        print(f"== {name} took {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
