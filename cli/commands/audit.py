"""``tracegraph audit verify|show|list|export``: the audit trail, for the people who check it.

These commands read the audit file only, never the graph store: an auditor can verify a copy
of the file on its own with ``--file``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from cli.context import EXIT_NOT_FOUND, console, domain_errors, err_console, fail, print_json, state
from schema.errors import InvalidInputError
from services.audit import AuditFilter, AuditTrail, AuditVerification
from services.settings import Settings

#: Exit code of a verification that found tampering (here and in ``tracegraph verify``).
EXIT_INTEGRITY = 6

app = typer.Typer(help="The audit trail: verify its hash chain, show and export entries.", no_args_is_help=True)


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="audit")


FileOption = typer.Option(
    None,
    "--file",
    help="The audit file to read; default: TRACEGRAPH_AUDIT, else beside the SQLite store (<store>.audit.db)",
)


@contextmanager
def trail_for(ctx: typer.Context, file: Path | None) -> Iterator[AuditTrail]:
    st = state(ctx)
    with domain_errors():
        try:
            settings = Settings(store=st.store_url, busy_timeout=st.busy_timeout)
        except ValueError as exc:
            raise InvalidInputError(f"settings: {exc}") from exc
        trail = AuditTrail.for_settings(settings, path=file)
        try:
            yield trail
        finally:
            trail.close()


def _require(trail: AuditTrail) -> None:
    if not trail.log.exists():
        fail(f"no audit trail at {trail.path} (nothing has been recorded there)", EXIT_NOT_FOUND)


def report_verification(v: AuditVerification) -> None:
    """Say what verification found, on stdout when intact and on stderr when not."""
    if v.ok:
        head = f"; head entry {v.head.seq}, SHA-256 {v.head.hash}" if v.head else ""
        console.print(f"audit trail {escape(str(v.path))}: {v.entries} entries, chain intact{head}", highlight=False)
        return
    err_console.print(
        f"[bold red]audit trail {escape(str(v.path))} has been altered:[/] "
        f"{len(v.problems) + v.more_problems} problem(s) in {v.entries} stored entries",
        highlight=False,
    )
    for problem in v.problems:
        err_console.print(f"  {escape(str(problem))}", highlight=False, soft_wrap=True)
    if v.more_problems:
        err_console.print(f"  … and {v.more_problems} more", highlight=False)


@app.command("verify")
def verify(
    ctx: typer.Context,
    file: Path | None = FileOption,
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object"),
) -> None:
    """Check the hash chain: exit 0 when intact, 6 naming every modified, deleted or reordered entry."""
    with trail_for(ctx, file) as trail:
        _require(trail)
        with domain_errors():
            result = trail.verify()
    if as_json:
        print_json(result.to_json())
    else:
        report_verification(result)
    if not result.ok:
        raise typer.Exit(EXIT_INTEGRITY)


@app.command("show")
def show(
    ctx: typer.Context,
    seq: int = typer.Argument(..., min=1, help="Entry number"),
    file: Path | None = FileOption,
    as_json: bool = typer.Option(False, "--json", help="Print the entry as stored, with its hash"),
) -> None:
    """Show one entry: who, what, when, old and new values, reason, and its place in the chain."""
    with trail_for(ctx, file) as trail:
        _require(trail)
        with domain_errors():
            entry = trail.entry(seq)
            row = trail.log.row(seq)
    assert row is not None
    if as_json:
        print_json({**entry.to_json(), "hash": row.hash})
        return
    console.print(f"[bold]entry {entry.seq}[/]  {escape(entry.action)}  {escape(entry.subject)}", highlight=False)
    table = Table(show_header=False, box=None)
    for name, value in (
        ("at", entry.to_json()["at"]),
        ("actor", entry.actor),
        ("reason", entry.reason or ""),
        ("old", _json_text(entry.old)),
        ("new", _json_text(entry.new)),
        ("details", _json_text(entry.details) if entry.details else ""),
        ("previous hash", entry.prev_hash),
        ("hash", row.hash),
    ):
        table.add_row(name, escape(value))
    console.print(table)


@app.command("list")
def list_entries(
    ctx: typer.Context,
    last: int = typer.Option(20, "--last", min=1, help="How many of the latest (matching) entries"),
    action: str | None = typer.Option(None, "--action", help="Only this action, e.g. load or alert.transition"),
    actor: str | None = typer.Option(None, "--by", help="Only entries whose actor contains this, ignoring case"),
    subject: str | None = typer.Option(
        None, "--subject", help="Only this subject, or ending in * every subject starting so: 'lot:*'"
    ),
    since: datetime | None = typer.Option(None, "--since", help="Only entries recorded at or after this time (UTC)"),
    until: datetime | None = typer.Option(None, "--until", help="Only entries recorded before this time (UTC)"),
    file: Path | None = FileOption,
    as_json: bool = typer.Option(False, "--json", help="Print the entries as one JSON array"),
) -> None:
    """The latest entries, one line each; the options narrow them to who, what and when."""
    with trail_for(ctx, file) as trail:
        _require(trail)
        with domain_errors():
            where = AuditFilter(action=action, actor=actor, subject=subject, since=since, until=until)
            if where.empty:
                head = trail.head()
                start = max(1, (head.seq if head else 0) - last + 1)
                rows = [trail.entry(r.seq) for r in trail.rows(start=start)]
            else:
                rows = trail.find(where, last=last)
    if as_json:
        print_json([e.to_json() for e in rows])
        return
    table = Table()
    for column in ("#", "at", "actor", "action", "subject", "reason"):
        table.add_column(column, overflow="fold")
    for e in rows:
        table.add_row(str(e.seq), e.to_json()["at"], e.actor, e.action, e.subject, e.reason or "")
    console.print(table)


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: ExportFormat = typer.Option(..., "--format", help="csv or json"),
    out: Path | None = typer.Option(None, "--out", help="Write here instead of standard output"),
    start: int = typer.Option(1, "--from", min=1, help="First entry"),
    end: int | None = typer.Option(None, "--to", min=1, help="Last entry"),
    file: Path | None = FileOption,
) -> None:
    """Export entries for an inspector: every field, the stored hash, and (JSON) the verification."""
    with trail_for(ctx, file) as trail:
        _require(trail)
        with domain_errors():
            if fmt is ExportFormat.json:
                if out is None:
                    result = trail.export_json(sys.stdout.buffer, start=start, end=end)
                    sys.stdout.flush()
                else:
                    with out.open("wb") as handle:
                        result = trail.export_json(handle, start=start, end=end)
            elif out is None:
                result = trail.export_csv(sys.stdout, start=start, end=end)
            else:
                with out.open("w", newline="", encoding="utf-8") as handle:
                    result = trail.export_csv(handle, start=start, end=end)
    if out is not None:
        err_console.print(f"exported to {escape(str(out))}", highlight=False)
    if not result.ok:
        # The export is still written: an inspector needs to see what is there.
        report_verification(result)


def _json_text(value: object) -> str:
    return "" if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
