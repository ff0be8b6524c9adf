"""``tracegraph load``: read files into the store, all or nothing."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.status import Status

from cli.context import EXIT_REJECTED, console, domain_errors, err_console, fail, services_for
from i18n import gettext as _
from loaders import FORMATS


def register(app: typer.Typer) -> None:
    app.command("load")(load)


def load(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or directories (a CSV set) to load"),
    fmt: str = typer.Option("auto", "--format", help=f"One of {', '.join(FORMATS)}"),
    partial: bool = typer.Option(False, "--partial", help="Load the good records, report the rejected ones"),
    reject_report: Path | None = typer.Option(None, "--reject-report", help="Write rejected records to this CSV"),
    mapping: Path | None = typer.Option(
        None, "--mapping", help="Read the files as ERP/MES/LIMS/WMS exports (CSV, XLSX) through this mapping (YAML)"
    ),
    epcis_any_order: bool = typer.Option(
        False,
        "--epcis-any-order",
        help="Accept EPCIS XML events whose fields are not in the schema's element order (some producers jumble it)",
    ),
) -> None:
    """Load files as one batch. Strict: any bad record rejects the whole batch, nothing written."""
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    if mapping is not None and fmt != "auto":
        fail("--mapping says how to read the files (its source.format); leave --format out")
    with (
        services_for(ctx, migrate=True) as services,
        domain_errors(),
        Status("reading…", console=err_console) as status,
    ):
        report = services.load_paths(
            paths,
            fmt=fmt,
            partial=partial,
            reject_report=reject_report,
            on_phase=lambda phase: status.update(f"{phase}…"),
            mapping=mapping,
            epcis_any_order=epcis_any_order,
        )
    result = report.result
    assert result is not None
    if result.already_loaded:
        console.print(_("already loaded (batch {batch}); nothing changed").format(batch=result.batch_id))
    else:
        console.print(
            _(
                "loaded {records} records: {nodes_added} nodes added, {nodes_changed} changed; "
                "{edges_added} edges added, {edges_changed} changed"
            ).format(
                records=report.records,
                nodes_added=result.nodes_added,
                nodes_changed=result.nodes_changed,
                edges_added=result.edges_added,
                edges_changed=result.edges_changed,
            )
            + (_("; {count} retracted").format(count=result.retracted) if result.retracted else "")
            + _(" (batch {batch})").format(batch=result.batch_id)
        )
    if report.rejects:
        for reject in report.rejects[:50]:
            err_console.print(f"  {reject}", markup=False, highlight=False, soft_wrap=True)
        where = f", all listed in {reject_report}" if reject_report else ""
        fail(f"{len(report.rejects)} record(s) rejected{where}; the rest was loaded", EXIT_REJECTED)
