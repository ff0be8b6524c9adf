"""``tracegraph recall --from KEY... | --signal ID... [--threshold P] [--json]``."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.context import console, domain_errors, fail, parse_time, print_json, services_for
from i18n import gettext as _
from risk.recall import DEFAULT_THRESHOLD, RecallScope
from schema.model import TimeWindow, from_epoch, iso


def register(app: typer.Typer) -> None:
    app.command("recall")(recall)


def recall(
    ctx: typer.Context,
    starts: list[str] = typer.Option([], "--from", help="A key known or suspected to be bad (repeatable)"),
    signals: list[str] = typer.Option([], "--signal", help="A signal id from `tracegraph signals` (repeatable)"),
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD, "--threshold", min=0.0, max=1.0, help="Recall devices with P(affected) at least this"
    ),
    probability: float = typer.Option(
        1.0, "--probability", min=0.0, max=1.0, help="How likely the --from keys are bad"
    ),
    window_start: str | None = typer.Option(None, "--window-from", help="The --from keys were bad from (ISO 8601)"),
    window_end: str | None = typer.Option(None, "--window-to", help="... until (ISO 8601)"),
    carryover: int = typer.Option(
        0, "--carryover", min=0, help="Contamination: the next N runs on the same machines are reached too"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="Answer as the store knew it then"),
    compare: bool = typer.Option(False, "--compare", help="Also count what plain and time-respecting traces reach"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows per table for people (JSON lists everything)"),
) -> None:
    """Recall scope: devices whose P(affected) reaches the threshold, where they are, and why."""
    if not starts and not signals:
        fail("say where the anomaly starts: --from KEY or --signal ID")
    window = None
    if window_start or window_end:
        window = TimeWindow(start=parse_time(window_start, "--window-from"), end=parse_time(window_end, "--window-to"))
    moment = parse_time(as_of, "--as-of")
    with services_for(ctx) as services, domain_errors():
        scope = services.recall_scope(
            starts=starts,
            signals=signals,
            window=window,
            threshold=threshold,
            probability=probability,
            carryover_runs=carryover,
            as_of=moment,
            compare=compare,
        )
    if as_json:
        print_json(scope.to_json())
        return
    show(scope, limit=limit)


def show(scope: RecallScope, *, limit: int) -> None:
    heading = _("recall scope")
    console.print(
        f"[bold]{heading}[/] "
        + _(
            "from {starts} at threshold {threshold}: {devices} device(s) in scope of {candidates} reached; "
            "expected truly affected {expected} (all reached: {expected_all})"
        ).format(
            starts=", ".join(scope.starts),
            threshold=f"{scope.threshold:g}",
            devices=len(scope.devices),
            candidates=scope.candidates,
            expected=f"{scope.expected_in_scope:.1f}",
            expected_all=f"{scope.expected_affected:.1f}",
        )
        + (" [yellow](" + _("partial: a server budget cut a trace short") + ")[/]" if scope.is_partial else "")
    )
    console.print(
        _("containment: {on_hand} on hand to quarantine, {shipped} shipped to recall").format(
            on_hand=len(scope.on_hand), shipped=len(scope.shipped)
        )
    )
    if scope.comparison is not None:
        console.print(
            f"traces from the same starts reach {scope.comparison.time_respecting} device(s) respecting time, "
            f"{scope.comparison.plain} ignoring it"
        )
    lots = Table(_("lot"), _("devices"), _("expected affected"), title=_("by product lot"), title_justify="left")
    for group in scope.by_lot[:limit]:
        lots.add_row(group.key, str(group.count), f"{group.expected:.1f}")
    console.print(lots)
    consignees = Table(
        _("consignee"), _("name"), _("country"), _("devices"), title=_("by consignee"), title_justify="left"
    )
    for group in scope.by_consignee[:limit]:
        consignees.add_row(group.key, group.name or "", group.country or "", str(group.count))
    console.print(consignees)
    countries = Table(_("country"), _("devices"), title=_("by country"), title_justify="left")
    for group in scope.by_country[:limit]:
        countries.add_row(group.key, str(group.count))
    console.print(countries)
    sensitivity = Table(
        "threshold", "devices", "lots", "consignees", "expected", title="sensitivity", title_justify="left"
    )
    for row in scope.sensitivity:
        sensitivity.add_row(
            f"{row.threshold:.1f}", str(row.devices), str(row.lots), str(row.consignees), f"{row.expected:.1f}"
        )
    console.print(sensitivity)
    if scope.on_hand:
        stock = Table("device", "lot", "container", "site", title="on hand: quarantine", title_justify="left")
        for item in scope.on_hand[:limit]:
            stock.add_row(item.device, item.lot or "", item.container or "", item.site or "")
        console.print(stock)
    if scope.shipped:
        shipped = Table("device", "consignee", "name", "delivered", title="shipped: recall", title_justify="left")
        for s in scope.shipped[:limit]:
            delivered = iso(from_epoch(s.delivered_at)) if s.delivered_at is not None else ""
            shipped.add_row(s.device, s.consignee, s.name or "", delivered or "")
        console.print(shipped)
    devices = Table("P", "device", "explaining path", title="devices", title_justify="left")
    for d in scope.devices[:limit]:
        devices.add_row(f"{d.probability:.3f}", d.key, " → ".join(d.path))
    console.print(devices)
    if len(scope.devices) > limit:
        console.print(f"[dim]listed {limit} of {len(scope.devices)}; --json lists all[/]")
