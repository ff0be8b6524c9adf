"""SPC as a use case: the control charts of the process data in the store."""

from __future__ import annotations

from datetime import datetime

from graph.port import GraphStore
from risk.signals.charts import ControlChart, RuleSystem, control_charts
from services.signals import _process_runs, _Reader


def charts(
    store: GraphStore,
    *,
    equipment: str | None = None,
    parameter: str | None = None,
    rules: RuleSystem = RuleSystem.NELSON,
    as_of: datetime | None = None,
) -> list[ControlChart]:
    """The control charts of every machine and parameter with process data (or the ones named),
    read as the SPC signals read them (``services.signals.detect``)."""
    runs = _process_runs(_Reader(store, as_of))
    return control_charts(runs, equipment=equipment, parameter=parameter, rules=rules)
