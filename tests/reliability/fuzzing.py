"""Drive Schemathesis operation by operation with Hypothesis, collecting every failure instead of stopping.

(The Schemathesis pytest plugin's lazy schemas do not run under pytest 9, so the tests call
`APIOperation.as_strategy` themselves; the checks and the generated cases are Schemathesis's own.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

# 0 server errors, and every response as documented: status code, media type and body schema.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class FuzzOutcome:
    """What one operation's run did: examples sent, and the distinct failures seen (with a reproducer)."""

    label: str
    examples: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # failure title → curl command + message


def fuzz_operation(operation: Any, *, headers: Mapping[str, str], path_parameters: Mapping[str, Any], max_examples: int,
                   prepare: Callable[[Any], None] | None = None) -> FuzzOutcome:
    """Send `max_examples` valid and invalid cases of one operation (derandomized) and check every response."""
    outcome = FuzzOutcome(label=operation.label)
    fixed = {k: v for k, v in path_parameters.items() if k in {p.name for p in operation.path_parameters}}
    modes = [operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed)]
    try:
        modes.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed))
    except Exception:  # noqa: BLE001 — an operation without negatable inputs has no negative strategy
        pass

    @hypothesis.settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @given(case=st.one_of(*modes))
    def run(case: Any) -> None:
        if prepare:
            prepare(case)
        outcome.examples += 1
        try:
            case.call_and_validate(headers=dict(headers), checks=CHECKS)
        except BaseException as exc:  # noqa: BLE001 — Failure and FailureGroup: recorded, the run goes on
            title = _title(exc)
            if title not in outcome.failures:
                outcome.failures[title] = f"{case.as_curl_command(headers=dict(headers))}\n{exc}"

    started = time.perf_counter()
    run()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _title(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(sorted({getattr(e, "title", type(e).__name__) + ": " + str(getattr(e, "message", ""))[:120] for e in inner}))
