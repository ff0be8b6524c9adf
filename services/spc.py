"""SPC as a use case: the control charts of the process data in the store."""

from __future__ import annotations

from datetime import datetime

from graph.port import GraphStore
from risk.signals.charts import ControlChart, RuleSystem, control_charts
from services.signals import process_runs


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
    return control_charts(process_runs(store, as_of=as_of), equipment=equipment, parameter=parameter, rules=rules)
