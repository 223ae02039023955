"""The figures the security proofs report (checks run, routes covered, files tried), printed at the end.

The existing conftest of this package is left as it is: the summary hook is registered at run time
by the first test that records a figure.
"""
from __future__ import annotations

from collections import defaultdict

FIGURES: dict[str, dict] = defaultdict(dict)
_PLUGIN = "security-proof-figures"


class _Summary:
    def pytest_terminal_summary(self, terminalreporter):
        if not FIGURES:
            return
        terminalreporter.write_sep("-", "security proofs (tests/security)")
        for topic in sorted(FIGURES):
            for key, value in FIGURES[topic].items():
                terminalreporter.write_line(f"{topic}: {key}: {value}")


def record(config, topic: str, key: str, value) -> None:
    if not config.pluginmanager.has_plugin(_PLUGIN):
        config.pluginmanager.register(_Summary(), _PLUGIN)
    FIGURES[topic][key] = value


def add(config, topic: str, key: str, amount: int = 1) -> None:
    record(config, topic, key, FIGURES[topic].get(key, 0) + amount)
