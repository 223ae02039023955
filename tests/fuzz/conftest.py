"""Counts of what the hostile-input tests ran, printed at the end of the run."""
from __future__ import annotations

STATS = {"cases": 0, "routes": set(), "skipped": {}}


def pytest_terminal_summary(terminalreporter):
    if not STATS["cases"] and not STATS["skipped"]:
        return
    terminalreporter.write_sep("-", "hostile input (tests/fuzz)")
    terminalreporter.write_line(f"{STATS['cases']} requests over {len(STATS['routes'])} POST routes and JSON endpoints")
    for rule, why in sorted(STATS["skipped"].items()):
        terminalreporter.write_line(f"route not exercised: {rule} ({why})")
