"""``tracegraph demo``: generate a plant, load it, and take a guided tour."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(ctx: typer.Context) -> None:
    """Generate a synthetic plant, load it and print a guided tour."""
    raise NotImplementedError
