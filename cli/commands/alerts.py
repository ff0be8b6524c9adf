"""``tracegraph alerts list|show|run`` and ``tracegraph tasks list|show|move``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cli.context import console, domain_errors, fail, print_json, services_for
from i18n import gettext as _
from schema.alerts import Alert, AlertGrade, AlertState, Task, TaskState
from schema.model import iso

app = typer.Typer(help="Graded alerts raised by rules on signals.", no_args_is_help=True)
tasks_app = typer.Typer(help="Tasks opened by alerts: investigate, act, verify, close.", no_args_is_help=True)


def _when(value: object) -> str:
    return (iso(value) or "") if value is not None else ""  # type: ignore[arg-type]


@app.command("run")
def run(
    ctx: typer.Context,
    rules: Path | None = typer.Option(None, "--rules", help="Alert rules YAML (default: the packaged rules)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Evaluate the alert rules now (what a schedule runs): open, escalate, hold, notify."""
    with services_for(ctx) as services, domain_errors():
        result = services.run_alerts(rules=rules)
    if as_json:
        print_json(result.to_json())
        return
    console.print(
        _("{signals} signal(s): {opened} alert(s) opened, {escalated} escalated, {unchanged} unchanged").format(
            signals=result.signals,
            opened=len(result.opened),
            escalated=len(result.escalated),
            unchanged=len(result.unchanged),
        )
    )
    for key in result.opened:
        console.print(f"  opened    {key}")
    for key in result.escalated:
        console.print(f"  escalated {key}")
    for key, count in result.held.items():
        console.print(f"  {key} put {count} item(s) of unshipped stock on hold")
    failed = [d for d in result.deliveries if not d.ok]
    if failed:
        console.print(f"[yellow]{len(failed)} webhook delivery(ies) failed[/]")


@app.command("list")
def list_alerts(
    ctx: typer.Context,
    state: AlertState | None = typer.Option(None, "--state", help="open or closed"),
    grade: AlertGrade | None = typer.Option(None, "--grade", help="watch, warning, critical, recall-candidate"),
    node: str | None = typer.Option(None, "--node", help="Only alerts about this node (key, barcode, ...)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Alerts, open and most severe first."""
    with services_for(ctx) as services, domain_errors():
        found = services.alerts(state=state, grade=grade, node=node)
    if as_json:
        print_json({"alerts": [_alert_row(a) for a in found]})
        return
    table = Table(_("grade"), _("state"), _("alert"), _("owner"), _("due"), _("summary"))
    for a in found:
        table.add_row(a.grade.value, a.state.value, a.key, a.owner or a.owner_role, _when(a.due_at), a.summary)
    console.print(table)


def _alert_row(a: Alert) -> dict[str, object]:
    row = a.to_json()
    row.pop("history", None)
    return row


@app.command("show")
def show_alert(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Alert key, e.g. alert:process-shift@equipment:EXT-03"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """One alert with its evidence, tasks, holds, deliveries and history."""
    with services_for(ctx) as services, domain_errors():
        a = services.alert(key)
    if as_json:
        print_json(a.to_json())
        return
    console.print(f"[bold]{a.key}[/] ({a.grade.value}, {a.state.value}): {a.title}")
    console.print(f"  about {a.node}: {a.summary}")
    console.print(f"  signal {a.signal} ({a.signal_rule}, P={a.probability:.2f})")
    console.print(f"  owner {a.owner or '-'} ({a.owner_role}), due {_when(a.due_at)}")
    console.print(f"  tasks: {', '.join(a.tasks) or '-'}")
    if a.held:
        console.print(
            f"  holds {len(a.held)} item(s) of stock: {', '.join(a.held[:5])}" + (" …" if len(a.held) > 5 else "")
        )
    if a.evidence:
        console.print(f"  evidence: {', '.join(a.evidence[:10])}" + (" …" if len(a.evidence) > 10 else ""))
    for d in a.deliveries:
        console.print(f"  webhook {d.get('event')} → {d.get('url')}: {'ok' if d.get('ok') else d.get('error')}")
    _history(a.history)


def _history(history: tuple[object, ...]) -> None:
    table = Table("when", "who", "state", "why", title="history", title_justify="left")
    for change in history:
        table.add_row(_when(change.at), change.by, change.state, change.reason or "")  # type: ignore[attr-defined]
    console.print(table)


@tasks_app.command("list")
def list_tasks(
    ctx: typer.Context,
    state: TaskState | None = typer.Option(None, "--state", help="open, investigating, action, verification, closed"),
    assignee: str | None = typer.Option(None, "--assignee", help="Only this person's tasks"),
    concerns: str | None = typer.Option(None, "--node", help="Only tasks about this node (key, barcode, ...)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Tasks, open ones first by due date."""
    with services_for(ctx) as services, domain_errors():
        found = services.tasks(state=state, assignee=assignee, concerns=concerns)
    if as_json:
        print_json({"tasks": [_task_row(t) for t in found]})
        return
    table = Table(_("state"), _("task"), _("assignee"), _("due"), _("concerns"))
    for t in found:
        table.add_row(t.state.value, t.key, t.assignee or t.role, _when(t.due_at), t.concerns)
    console.print(table)


def _task_row(t: Task) -> dict[str, object]:
    row = t.to_json()
    row.pop("history", None)
    return row


@tasks_app.command("show")
def show_task(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Task key"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """One task with its fields, records and history."""
    with services_for(ctx) as services, domain_errors():
        t = services.task(key)
    if as_json:
        print_json(t.to_json())
        return
    console.print(f"[bold]{t.key}[/] ({t.state.value}): {t.title}")
    console.print(f"  alert {t.alert}, concerns {t.concerns}")
    console.print(f"  assignee {t.assignee or '-'} ({t.role}), due {_when(t.due_at)}")
    for name, value in t.fields.items():
        console.print(f"  {name}: {value}")
    if t.records:
        console.print(f"  records: {', '.join(t.records)}")
    _history(t.history)


@tasks_app.command("move")
def move(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Task key"),
    state: TaskState = typer.Argument(..., help="investigating, action, verification or closed"),
    field: list[str] = typer.Option([], "--field", help="k=v: root_cause, action, disposition, effectiveness_check, …"),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the task's history and the audit trail)"),
    rules: Path | None = typer.Option(None, "--rules", help="Alert rules YAML (webhooks)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Move a task to its next state with the fields that step needs."""
    fields: dict[str, str] = {}
    for item in field:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"--field {item!r}: write name=value")
        fields[name.strip()] = value.strip()
    with services_for(ctx) as services, domain_errors():
        t = services.move_task(key, state, fields, reason=reason, rules=rules)
    if as_json:
        print_json(t.to_json())
        return
    console.print(f"{t.key} is now {t.state.value}" + (f"; records: {', '.join(t.records)}" if t.records else ""))
