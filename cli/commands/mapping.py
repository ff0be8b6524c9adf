"""``tracegraph mapping check``: a dry run of an export through a mapping, store untouched."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import EXIT_INVALID, EXIT_REJECTED, console, err_console, fail, print_json
from loaders.mapping import MappedResult, MappingError, check_mapped, load_mapping

app = typer.Typer(help="Declarative mappings of ERP/MES/LIMS/WMS exports (docs/reference/mappings.md).")

#: Rejects listed in the human-readable output; --json lists all.
_SHOWN = 50


@app.callback()
def _group() -> None:
    """Declarative mappings of ERP/MES/LIMS/WMS exports (docs/reference/mappings.md)."""


@app.command("check")
def check(
    path: Path = typer.Argument(..., help="The export to read (CSV or XLSX)"),
    mapping: Path = typer.Option(..., "--mapping", help="The mapping file (YAML)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Read an export through a mapping without loading it: rows that would load, the facts
    by kind, and every row that would be rejected. Exit 5 when any row would be, 2 when the
    mapping itself is not valid."""
    try:
        compiled = load_mapping(mapping)
    except MappingError as exc:
        if as_json:
            print_json({"mapping": exc.source, "valid": False, "problems": [p._asdict() for p in exc.problems]})
        for problem in exc.problems:
            err_console.print(f"  {problem.located(exc.source)}", markup=False, highlight=False, soft_wrap=True)
        fail(f"the mapping {exc.source} is not valid ({len(exc.problems)} problem(s))", EXIT_INVALID)
    checked = check_mapped(path, compiled)
    if as_json:
        print_json(_json(checked, compiled.name, compiled.target.name))
    else:
        _print(checked, compiled.name, compiled.target.name)
    if checked.result.rejects:
        raise typer.Exit(EXIT_REJECTED)


def _json(checked: MappedResult, mapping: str, target: str) -> dict[str, object]:
    result = checked.result
    return {
        "source": checked.source,
        "mapping": mapping,
        "target": target,
        "rows": {
            "read": result.records,
            "would_load": checked.accepted,
            "rejected": len(checked.rejected_rows) if checked.header_ok else result.records,
            "skipped": checked.skipped,
        },
        "nodes_by_kind": checked.nodes_by_kind(),
        "edges_by_type": checked.edges_by_type(),
        "rejects": [r.model_dump() for r in result.rejects],
    }


def _print(checked: MappedResult, mapping: str, target: str) -> None:
    summary = _json(checked, mapping, target)
    rows = summary["rows"]
    assert isinstance(rows, dict)
    console.print(
        f"[bold]{escape(checked.source)}[/] through {escape(mapping)} as {target}: {rows['read']} row(s) read, "
        f"[green]{rows['would_load']} would load[/], {rows['rejected']} rejected, {rows['skipped']} skipped",
        highlight=False,
    )
    table = Table("facts", "count")
    for kind, count in checked.nodes_by_kind().items():
        table.add_row(f"{kind} node", str(count))
    for etype, count in checked.edges_by_type().items():
        table.add_row(f"{etype} edge", str(count))
    if table.row_count:
        console.print(table)
    rejects = checked.result.rejects
    for reject in rejects[:_SHOWN]:
        err_console.print(f"  {reject}", markup=False, highlight=False, soft_wrap=True)
    if len(rejects) > _SHOWN:
        err_console.print(f"  … and {len(rejects) - _SHOWN} more (see --json)")
