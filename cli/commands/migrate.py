"""``tracegraph migrate``: create or upgrade the store's schema (idempotent)."""

from __future__ import annotations

import typer

from cli.context import console, services_for


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)


def migrate(ctx: typer.Context) -> None:
    """Create or upgrade the store's schema, constraints and indexes."""
    with services_for(ctx) as services:
        version = services.migrate()
        console.print(f"{services.store.backend} store at {services.store.location} is at schema version {version}")
