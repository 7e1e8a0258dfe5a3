"""A short version of bench/bench_load.py: 20 s of mixed load on `twin serve --workers 2`, no errors allowed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from bench.bench_load import percentile, prepare_database, run_load, table
from tests.support.postgres import PrivatePostgres
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.slow
SECONDS = 20.0
EXPECTED_KINDS = {"park", "features_geojson", "features_bbox", "tileset_json", "tile_content", "sta_filter_expand",
                  "sta_observations", "sta_latest", "assets_state", "alarm_summary", "ingest_batch", "sse_connect"}


def test_mixed_load_on_two_workers_has_no_errors(private_pg: PrivatePostgres, tmp_path: Path) -> None:
    target = prepare_database(private_pg.url("parktwin_load"))
    log = tmp_path / "service.log"
    service = ServiceProcess(private_pg.url("parktwin_load"), tmp_path / "var", workers=2, log_path=log,
                             TWIN_JOBS_ENABLED="false", TWIN_LOG_LEVEL="INFO", TWIN_LOG_JSON="true").start(timeout=60)
    try:
        results = asyncio.run(run_load(service.url, target, seconds=SECONDS, users=8, think_s=0.1, sse=8, gateways=1, batch=100))
    finally:
        service.stop()
    print("\n" + table(results, f"{SECONDS:.0f} s, 2 workers"))
    assert results.error_count() == 0, dict(results.errors)
    assert EXPECTED_KINDS <= set(results.latencies), f"request types never sent: {EXPECTED_KINDS - set(results.latencies)}"
    assert results.sse_clients == 8 and results.observations > 0
    pushes = results.latencies["sse_reading_push"]
    assert pushes and percentile(pushes, 0.5) < 2_000, "ingested readings did not reach the live clients promptly"
    # Every worker process logs as configured (JSON lines, INFO request logs), not Python's bare default.
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    entries = [orjson.loads(line) for line in lines]
    requests_sent = results.requests() - len(pushes)  # push timings are not requests
    assert sum(e.get("logger") == "twin.http" for e in entries) >= requests_sent, "request logs are missing"
