"""``tracegraph migrate``: create or upgrade the store's schema (idempotent)."""

from __future__ import annotations

import typer

from cli.context import console, store_for


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)


def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the store's schema, constraints and indexes."""
    with store_for(ctx) as store:
        version = store.migrate()
        console.print(f"{store.backend} store at {store.location} is at schema version {version}")
