"""Prometheus metrics: requests, ingest, jobs, alarms. Other modules import and increment these.

With several worker processes (`twin serve --workers N`), the CLI sets PROMETHEUS_MULTIPROC_DIR
so every worker writes its samples there and `/metrics` reports the sum over all workers.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

REQUESTS = Counter("parktwin_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("parktwin_http_request_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
OBSERVATIONS = Counter("parktwin_observations_ingested_total", "observations stored", ["channel"])
OBSERVATIONS_DUPLICATE = Counter("parktwin_observations_duplicate_total", "repeated observations (stored once)", ["channel"])
OBSERVATIONS_REJECTED = Counter("parktwin_observations_rejected_total", "observations refused as invalid", ["channel"])
JOBS = Counter("parktwin_jobs_total", "jobs finished", ["kind", "state"])
ALARMS = Counter("parktwin_alarms_total", "alarm transitions", ["state", "severity"])
LIVE_CLIENTS = Gauge("parktwin_live_clients", "connected live-stream clients", multiprocess_mode="livesum")


def render() -> tuple[bytes, str]:
    """The exposition text (summed over workers in multiprocess mode) and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
