"""``tracegraph quality``: data-quality findings and a score per source."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import console, print_json, services_for
from i18n import gettext as _

#: Findings listed per check in the human-readable output; --json lists all.
_SHOWN = 10


def register(app: typer.Typer) -> None:
    app.command("quality")(quality)


def quality(
    ctx: typer.Context,
    source: str | None = typer.Option(None, "--source", help="Only this source (file name or source system)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Governance checks over everything loaded: key variants, lots consumed but never received
    or more than received, events out of order, devices without a lot. Findings are reported,
    never fixed; each names its keys and source records."""
    with services_for(ctx) as services:
        report = services.quality(source=source)
    if as_json:
        print_json(report.to_json())
        return
    table = Table(
        _("source system"),
        _("source"),
        _("records"),
        _("affected"),
        _("findings"),
        _("score"),
        title=_("Data quality by source"),
    )
    for s in report.sources:
        colour = "green" if s.score >= 95 else "yellow" if s.score >= 80 else "red"
        table.add_row(
            escape(s.source_system),
            escape(s.source),
            str(s.records),
            str(s.affected),
            str(s.findings),
            f"[{colour}]{s.score}[/]",
        )
    console.print(table)
    if not report.findings:
        console.print(_("no findings"))
        return
    by_check: dict[str, list[str]] = {}
    for finding in report.findings:
        by_check.setdefault(finding.check, []).append(f"[{finding.severity}] {finding.message}")
    for check, messages in by_check.items():
        console.print(f"\n[bold]{check}[/]: " + _("{count} finding(s)").format(count=len(messages)))
        for message in messages[:_SHOWN]:
            console.print(f"  {escape(message)}", highlight=False, soft_wrap=True)
        if len(messages) > _SHOWN:
            console.print("  " + _("… and {count} more (see --json)").format(count=len(messages) - _SHOWN))
