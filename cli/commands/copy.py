"""``tracegraph copy --from URL --to URL``: move to a bigger store without losing history."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cli.context import EXIT_STORE, console, domain_errors, err_console, fail
from graph.factory import open_store
from services.copy import copy_store


def register(app: typer.Typer) -> None:
    app.command("copy")(copy)


def copy(
    source_url: str = typer.Option(..., "--from", help="Store to copy from"),
    target_url: str = typer.Option(..., "--to", help="Store to copy into (migrated first)"),
    sample: int = typer.Option(20, "--sample", min=0, help="Keys whose traces are compared afterwards"),
) -> None:
    """Copy every fact with its provenance and history; safe to re-run, verified at the end."""
    with domain_errors():
        source = open_store(source_url)
        target = open_store(target_url)
        try:
            with Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console
            ) as bar:
                task = bar.add_task("copying batches", total=None)
                facts = 0

                def advance(batches: int, n: int) -> None:
                    nonlocal facts
                    facts += n
                    bar.update(task, description=f"copied {batches} batch(es), {facts} facts")

                report = copy_store(source, target, sample=sample, on_batch=advance)
        finally:
            source.close()
            target.close()
    console.print(
        f"{report.batches_copied} batch(es) copied ({report.facts_copied} facts), "
        f"{report.batches_skipped} already there"
    )
    console.print(
        f"nodes/edges: source {report.source_counts[0]}/{report.source_counts[1]}, "
        f"target {report.target_counts[0]}/{report.target_counts[1]}"
    )
    if not report.ok:
        what = "counts differ" if not report.counts_match else f"traces differ: {', '.join(report.trace_mismatches)}"
        fail(f"the copy does not match its source: {what}", EXIT_STORE)
    console.print(f"verified: counts match and {report.traces_compared} sampled traces are identical")
