"""The README's main job: scripts/demo.py runs drift_monitoring twice with capture servers."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.demo]


def test_demo_alerts_once_then_deduplicates(demo_run):
    assert "Second run deduplicated: yes" in demo_run["stdout"]
    figures = demo_run["figures"]
    first, second = figures["runs"]
    # the documented, seeded drift is found
    assert {"mean radius", "mean perimeter", "site"} <= set(first["drifted_columns"])
    assert "mean smoothness" not in first["drifted_columns"]
    assert first["model_drift"] is True
    # run 1 delivers on every channel, run 2 on none
    assert first["delivered"]["email"] == 1 and first["delivered"]["slack"] == 1
    assert first["delivered"]["pagerduty"] >= 2
    assert second["delivered"] == {"email": 0, "slack": 0, "pagerduty": 0}
    assert second["suppressed"]["pagerduty"] == first["delivered"]["pagerduty"]
    # the Variables hold one state per fired alert, counted twice, delivered per its route
    states = figures["alert_states"]
    assert len(states) == first["fired"] == figures["open_alerts"]
    assert {s["count"] for s in states.values()} == {2}
    critical = [s for s in states.values() if s["severity"] == "critical"]
    assert critical and all(set(s["sent"]) == {"pagerduty", "slack", "email"} for s in critical)
    assert figures["merged_profile"].endswith("reference_profile.json")
    assert figures["partitioned_drift"] == ["alcohol"]  # the seeded shift, found from 4 merged partition profiles
    # nothing left running: the capture servers' ports are closed (the script exits only after stopping them)
    assert "Browse the runs: make ui" in demo_run["stdout"]
