"""The ``tracegraph`` command."""

from __future__ import annotations

import typer

from cli.commands import copy, demo, load, migrate, neo4j, serve, show, stats, trace
from cli.context import State
from services.settings import DEFAULT_STORE

app = typer.Typer(
    name="tracegraph",
    help="Traceability graph and early warning for medical-device manufacturers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    store: str = typer.Option(
        DEFAULT_STORE,
        "--store",
        envvar="TRACEGRAPH_STORE",
        help="Store URL: sqlite:///file.db or neo4j://user:pass@host:7687",
    ),
    busy_timeout: float = typer.Option(
        5.0, "--busy-timeout", envvar="TRACEGRAPH_BUSY_TIMEOUT", help="Seconds to wait for another writer's lock"
    ),
) -> None:
    ctx.obj = State(store_url=store, busy_timeout=busy_timeout)


for module in (demo, load, trace, show, stats, migrate, copy, serve):
    module.register(app)
app.add_typer(neo4j.app, name="neo4j")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
