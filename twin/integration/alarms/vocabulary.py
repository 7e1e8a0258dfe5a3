"""The alarm vocabulary: severities, states, kinds and their labels (zh/en), and map states."""

from __future__ import annotations

from typing import Literal

Severity = Literal["critical", "major", "minor", "warning"]
State = Literal["active", "acknowledged", "cleared"]
RuleKind = Literal["threshold", "state", "no_data", "geofence"]

# Most severe first: index 0 is the worst.
SEVERITIES: tuple[str, ...] = ("critical", "major", "minor", "warning")
STATES: tuple[str, ...] = ("active", "acknowledged", "cleared")
OPEN_STATES: tuple[str, ...] = ("active", "acknowledged")
RULE_KINDS: tuple[str, ...] = ("threshold", "state", "no_data", "geofence")

SEVERITY_LABELS: dict[str, dict[str, str]] = {
    "critical": {"zh": "紧急", "en": "Critical"},
    "major": {"zh": "重要", "en": "Major"},
    "minor": {"zh": "次要", "en": "Minor"},
    "warning": {"zh": "提示", "en": "Warning"},
}
STATE_LABELS: dict[str, dict[str, str]] = {
    "active": {"zh": "未处理", "en": "Active"},
    "acknowledged": {"zh": "已确认", "en": "Acknowledged"},
    "cleared": {"zh": "已解除", "en": "Cleared"},
}
# Alarm kinds: the four rule kinds, then what devices report.
KIND_LABELS: dict[str, dict[str, str]] = {
    "threshold": {"zh": "超限", "en": "Threshold exceeded"},
    "state": {"zh": "状态异常", "en": "Abnormal state"},
    "no_data": {"zh": "信号消失", "en": "No data (offline)"},
    "geofence": {"zh": "越界", "en": "Geofence"},
    "fire": {"zh": "火警", "en": "Fire"},
    "elevator_fault": {"zh": "电梯故障", "en": "Elevator fault"},
    "intrusion": {"zh": "入侵报警", "en": "Intrusion"},
    "alarm_button": {"zh": "一键报警", "en": "Alarm button"},
    "environment": {"zh": "环境超标", "en": "Environment limit"},
    "device_fault": {"zh": "设备故障", "en": "Device fault"},
    "other": {"zh": "其他", "en": "Other"},
}
DEVICE_KINDS: tuple[str, ...] = ("fire", "elevator_fault", "intrusion", "alarm_button", "environment", "device_fault", "other")

# What a device's own alarm is when the report names no kind (e.g. the simulator's hook).
DEVICE_KIND_BY_ASSET_KIND: dict[str, str] = {
    "fire_equipment": "fire",
    "elevator": "elevator_fault",
    "intrusion_detector": "intrusion",
    "alarm_button": "alarm_button",
    "air_quality_sensor": "environment",
    "water_quality_sensor": "environment",
    "noise_sensor": "environment",
}


def worst(severities: list[str]) -> str | None:
    """The most severe of these severities (None for none)."""
    known = [s for s in severities if s in SEVERITIES]
    return min(known, key=SEVERITIES.index) if known else None


def map_state(severity: str | None) -> str:
    """The asset/map state an open alarm of this severity gives: critical/major → alarm, else warning."""
    if severity is None:
        return "normal"
    return "alarm" if severity in ("critical", "major") else "warning"


def severity_counts(pairs: list[tuple[str, int]]) -> dict[str, int]:
    """{severity: count} with every severity present (0 where none)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for severity, n in pairs:
        if severity in counts:
            counts[severity] += n
    return counts
