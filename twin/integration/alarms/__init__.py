"""Events and alarms: rules, evaluation on ingest and by a periodic sweep, lifecycle, linkage, roll-up.

Importing this package registers the engine with the integration layer (once per process):
rule evaluation as an ingest after-commit hook, and open alarms as a source of asset states.
twin/integration/runtime.py imports it at app start.
"""

from twin.integration import asset_states, ingest
from twin.integration.alarms import evaluation, lifecycle

if evaluation.evaluate_committed not in ingest.after_commit_hooks:
    ingest.after_commit_hooks.append(evaluation.evaluate_committed)
if lifecycle.open_asset_states not in asset_states.asset_state_sources:
    asset_states.asset_state_sources.append(lifecycle.open_asset_states)
