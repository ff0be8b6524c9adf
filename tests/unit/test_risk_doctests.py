"""The examples in the docstrings of the early-warning modules run (STYLE.md, 13)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "risk.propagation",
    "risk.recall",
    "risk.alerts",
    "risk.signals.base",
    "risk.signals.spc",
    "risk.signals.process",
    "risk.signals.inspection",
    "risk.signals.calibration",
    "risk.signals.complaints",
    "risk.signals.supplier",
    "risk.signals.changes",
    "risk.signals.labels",
    "services.webhooks",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no example"
    assert result.failed == 0
