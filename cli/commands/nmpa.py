"""``tracegraph nmpa``: China NMPA recall documents, recall clocks, distribution records and their retention."""

from __future__ import annotations

import csv
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.table import Table

from cli.context import console, domain_errors, fail, parse_time, print_json, services_for
from i18n import gettext as _
from i18n import use_language
from reports import nmpa as documents
from risk.nmpa import RecallClass, recall_clocks
from risk.recall import DEFAULT_THRESHOLD
from schema.model import iso
from services import nmpa as nmpa_service

app = typer.Typer(
    help="China NMPA duties: recall documents (召回事件报告表, 召回计划, …), recall clocks, distribution records.",
    no_args_is_help=True,
)

KINDS_HELP = f"Documents: {', '.join(documents.KINDS)} (or all)"
FACTS_HELP = f"NMPA facts file (YAML with an nmpa: section; default ${nmpa_service.FACTS_ENV})"


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="nmpa")


def _class(value: str) -> RecallClass:
    with domain_errors():
        return RecallClass.parse(value)


def _facts(path: str | None) -> nmpa_service.NmpaFacts:
    with domain_errors():
        return nmpa_service.load_facts(nmpa_service.facts_path(path, os.environ))


@app.command("report")
def report(
    ctx: typer.Context,
    kinds: list[str] = typer.Argument(..., help=KINDS_HELP),
    starts: list[str] = typer.Option(..., "--from", help="A key known or suspected to be bad (repeatable)"),
    recall_class: str = typer.Option(..., "--class", help="Recall class: 1, 2 or 3 (一级, 二级, 三级)"),
    out: Path = typer.Option(Path("."), "--out", help="Directory the PDF, CSV and JSON files are written to"),
    facts: str | None = typer.Option(None, "--facts", help=FACTS_HELP),
    threshold: float = typer.Option(DEFAULT_THRESHOLD, "--threshold", min=0.0, max=1.0, help="Recall scope threshold"),
    decided_at: str | None = typer.Option(None, "--decided-at", help="When the recall was decided (ISO 8601)"),
    doc_lang: str = typer.Option("zh", "--doc-lang", help="Language of the documents (zh for the NMPA, or en)"),
    track: bool = typer.Option(False, "--track", help="Also record the recall's clocks as tasks"),
    font: Path | None = typer.Option(
        None,
        "--font",
        help="Chinese TrueType font (.ttf/.ttc) to embed in the PDFs (default: an installed one, else the CID "
        "font STSong-Light)",
    ),
) -> None:
    """Write NMPA recall documents for the recall scope of --from, with their facts still missing."""
    chosen = list(documents.KINDS) if kinds == ["all"] else kinds
    klass = _class(recall_class)
    moment = parse_time(decided_at, "--decided-at")
    with domain_errors():
        chosen = documents.documents(chosen)
        chinese = documents.chinese_font(font)
    known = _facts(facts)
    with services_for(ctx) as services, domain_errors():
        scope = services.recall_scope(starts=starts, threshold=threshold)
        dossier = services.nmpa_dossier(scope, known, klass, decided_at=moment)
        tracked = services.track_nmpa_recall(starts[0], klass, dossier.clocks) if track else None
        with use_language(doc_lang):
            written = [path for kind in chosen for path in documents.write_all(dossier, kind, out, font=chinese)]
    console.print(
        _("{class_name}: {units} unit(s) in {lots} lot(s) at {consignees} consignee(s)").format(
            class_name=klass.chinese,
            units=dossier.in_scope,
            lots=len(dossier.lots),
            consignees=len(dossier.consignees),
        )
    )
    for path in written:
        console.print(f"  {path}", highlight=False)
    console.print(_("PDF font: {font}").format(font=chinese), highlight=False)
    if tracked is not None:
        console.print(
            _("recall recorded as {alert} with {count} task(s)").format(alert=tracked[0], count=len(tracked[1]))
        )
    if dossier.missing:
        console.print(_("facts still missing ({count}), listed in every document:").format(count=len(dossier.missing)))
        for fact in dossier.missing:
            console.print(f"  - {documents.missing_text(fact)}", highlight=False)


@app.command("clocks")
def clocks(
    recall_class: str = typer.Option(..., "--class", help="Recall class: 1, 2 or 3"),
    decided_at: str | None = typer.Option(None, "--decided-at", help="When the recall was decided (default: now)"),
    facts: str | None = typer.Option(None, "--facts", help=FACTS_HELP + "; its holidays and workdays count"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """The deadlines a recall decision starts (notify, report, investigation report, recall plan, progress)."""
    klass = _class(recall_class)
    known = _facts(facts)
    moment = parse_time(decided_at, "--decided-at")
    found = recall_clocks(klass, moment or datetime.now(UTC), holidays=known.holidays, workdays=known.workdays)
    if as_json:
        print_json([{"kind": c.kind.value, "title": c.title, "rule": c.rule, "due": iso(c.due)} for c in found])
        return
    table = Table(_("duty"), _("rule"), _("due"), title=klass.chinese, title_justify="left")
    for clock in found:
        table.add_row(_(clock.title), _(clock.rule), iso(clock.due) or "")
    console.print(table)
    if not known.holidays:
        console.print(
            _("working days skip weekends only: public holidays are not known unless the facts file lists them")
        )


@app.command("retention")
def retention(
    ctx: typer.Context,
    facts: str | None = typer.Option(None, "--facts", help=FACTS_HELP),
    on: str | None = typer.Option(None, "--on", help="Check as of this date (default: today)"),
    out: Path | None = typer.Option(None, "--out", help="Also write every distribution record to this CSV file"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows listed per table for people"),
) -> None:
    """Distribution records from the graph and which must still be kept (expiry + 2 years, 5 years
    without expiry, implants permanently) or may be purged."""
    day = None
    if on is not None:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            fail(f"--on: '{on}' is not an ISO 8601 date (e.g. 2030-01-31)")
    known = _facts(facts)
    with services_for(ctx) as services, domain_errors():
        records = services.distribution_records(known)
    check = nmpa_service.retention_check(records, on=day)
    if out is not None:
        _write_records(records, out)
    if as_json:
        print_json(check.to_json())
        return
    console.print(
        _("{records} distribution record(s) on {day}: {keep} to keep, {purge} may be purged").format(
            records=len(records), day=check.on.isoformat(), keep=len(check.keep), purge=len(check.may_purge)
        )
    )
    for title, rows in ((_("to keep"), check.keep), (_("may be purged"), check.may_purge)):
        table = Table(
            _("Shipment"),
            _("Consignee"),
            _("Lot"),
            _("Quantity"),
            _("Expiry"),
            _("Kept until"),
            _("Rule"),
            title=title,
            title_justify="left",
        )
        for r in rows[:limit]:
            table.add_row(
                r.shipment,
                r.consignee or "",
                r.lot or "",
                str(r.quantity),
                r.expiry or "",
                r.keep_until or _("permanently"),
                _(r.retention_rule),
            )
        console.print(table)


def _write_records(records: list[nmpa_service.DistributionRecord], out: Path) -> None:
    fields = list(nmpa_service.DistributionRecord.model_fields)
    try:
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(fields)
            for r in records:
                row = r.model_dump(mode="json")
                writer.writerow([" ".join(row[f]) if isinstance(row[f], list) else row[f] for f in fields])
    except OSError as exc:
        fail(f"--out: cannot write {out}: {exc.strerror}")
    sys.stderr.write(f"{out}\n")


@app.command("adverse-events")
def adverse_events(
    ctx: typer.Context,
    run: bool = typer.Option(False, "--run", help="Open alerts and tasks due when each report is due"),
    rules: Path | None = typer.Option(None, "--rules", help="Alert rules YAML (default: the packaged rules)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Adverse-event reporting clocks (death 7 days, serious injury 20, abroad 30; a cluster 12 hours,
    its case reports 24 hours, the registrant's report 7 days), from the complaints' outcome."""
    with services_for(ctx) as services, domain_errors():
        found = services.nmpa_adverse_events(run=run, rules=rules)
    if as_json:
        print_json(
            {
                "signals": [s.to_json() for s in found.signals],
                "alerts": None if found.run is None else found.run.to_json(),
            }
        )
        return
    table = Table(_("complaint"), _("clock"), _("received"), title=_("adverse-event clocks"), title_justify="left")
    for signal in found.signals:
        start = signal.window.start if signal.window else None
        table.add_row(signal.node, _(signal.test), iso(start) or "")
    console.print(table)
    if found.run is not None:
        console.print(
            _("alerts opened: {opened}, escalated: {escalated}").format(
                opened=len(found.run.opened), escalated=len(found.run.escalated)
            )
        )
