"""``tracegraph backup --to FILE`` and ``tracegraph restore --from FILE`` (embedded SQLite store)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from cli.context import console, domain_errors, err_console, print_json, state
from schema.errors import InvalidInputError
from services import backup as backups
from services.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def _settings(ctx: typer.Context) -> Settings:
    st = state(ctx)
    try:
        return Settings(store=st.store_url, busy_timeout=st.busy_timeout)
    except ValueError as exc:
        raise InvalidInputError(f"settings: {exc}") from exc


def backup(
    ctx: typer.Context,
    to: Path = typer.Option(..., "--to", help="The backup file; its audit trail and access file go beside it"),
    force: bool = typer.Option(False, "--force", help="Replace existing backup files of that name"),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON"),
) -> None:
    """Copy the SQLite store (and its audit trail and access file) while it is in use, verified, owner-only.

    For Neo4j: scripts/neo4j-backup.sh, or `tracegraph copy --to sqlite:///backup.db` while it runs.
    """
    with domain_errors():
        report = backups.backup(_settings(ctx), to, force=force)
    if as_json:
        print_json(
            {
                "store": str(report.store),
                "files": {k: str(v) for k, v in report.files.items()},
                "nodes": report.stats.nodes if report.stats else None,
                "edges": report.stats.edges if report.stats else None,
                "audit_entries": report.audit_entries,
            }
        )
        return
    stats = report.stats
    counts = f" ({stats.nodes} nodes, {stats.edges} edges)" if stats else ""
    console.print(
        f"backed up {escape(str(report.store))}{counts} to {escape(str(to))}", highlight=False, soft_wrap=True
    )
    for what, path in report.files.items():
        if what != "store":
            extra = f", {report.audit_entries} entries, chain intact" if what == "audit" else ""
            console.print(f"  {what}: {escape(str(path))}{extra}", highlight=False, soft_wrap=True)


def restore(
    ctx: typer.Context,
    source: Path = typer.Option(..., "--from", help="A file written by tracegraph backup"),
    keep_previous: bool = typer.Option(
        True, "--keep-previous/--no-keep-previous", help="Keep the replaced store as <store>.before-restore.db"
    ),
) -> None:
    """Replace the store with a backup. Refused while the API or another command has the store open.

    Restores the store only: an audit trail is never rolled back (that would delete entries), nor an
    access file (that would revive revoked keys).
    """
    with domain_errors():
        report = backups.restore(_settings(ctx), source, keep_previous=keep_previous)
    console.print(
        f"restored {escape(str(report.store))} from {escape(str(source))}: "
        f"{report.stats.nodes} nodes, {report.stats.edges} edges",
        highlight=False,
        soft_wrap=True,
    )
    if report.previous is not None:
        console.print(f"  the store it replaced: {escape(str(report.previous))}", highlight=False, soft_wrap=True)
    err_console.print(
        "the audit trail and access file were left as they are (see docs/operator.md, Backup)",
        highlight=False,
        soft_wrap=True,
    )
