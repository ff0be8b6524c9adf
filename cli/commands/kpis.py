"""``tracegraph kpis``: time to trace (drills), open alerts by grade and age, supplier scores, audit-trail health."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.context import console, domain_errors, print_json, services_for
from services.drills import AGE_BUCKETS, kpis


def register(app: typer.Typer) -> None:
    app.command("kpis")(show_kpis)


def show_kpis(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the KPIs as JSON (as GET /api/v1/kpis returns them)"),
) -> None:
    """Traceability KPIs: time to trace from drills, open alerts, supplier scores, audit-trail health."""
    with services_for(ctx) as services, domain_errors():
        values = kpis(services)
    if as_json:
        print_json(values)
        return
    trace = values["time_to_trace"]
    console.print(
        f"time to trace: {trace['drills']} drill(s); median to consignee list "
        f"{_seconds(trace['median_seconds_to_consignee_list'])}, to signed report "
        f"{_seconds(trace['median_seconds_to_signed_report'])}",
        highlight=False,
    )
    if trace["trend"]:
        table = Table("drill", "started at", "to consignee list (s)", "to signed report (s)", "devices", "consignees")
        for d in trace["trend"][-10:]:
            table.add_row(
                d["id"], d["started_at"], _seconds(d["seconds_to_consignee_list"]),
                _seconds(d["seconds_to_signed_report"]), str(d["devices"]), str(d["consignees"]),
            )  # fmt: skip
        console.print(table)
    alerts = values["open_alerts"]
    table = Table("open alerts", *(name.replace("_", " ") for name, _ in AGE_BUCKETS), "total")
    for grade, ages in alerts["by_grade_and_age"].items():
        table.add_row(grade, *(str(ages[name]) for name, _ in AGE_BUCKETS), str(alerts["by_grade"][grade]))
    console.print(table)
    console.print(f"overdue alerts: {alerts['overdue']}")
    suppliers = values["supplier_scores"]
    grades = ", ".join(f"{g}: {n}" for g, n in suppliers["by_grade"].items()) or "none"
    console.print(f"suppliers: {suppliers['suppliers']} scored ({grades})")
    audit = values["audit_trail"]
    state = "intact" if audit["intact"] else f"BROKEN ({audit['problem_count']} problem(s))"
    console.print(f"audit trail: {audit['entries']} entries, chain {state}", highlight=False)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
