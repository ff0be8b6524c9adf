"""``tracegraph neo4j start|stop|status``: a local Neo4j Community server for trials and tests.

The server runs from Maven Central artifacts cached outside the repository; it listens on
loopback only, with a generated password printed as a ready-to-use ``--store`` URL.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from cli.context import EXIT_STORE, console, domain_errors, err_console, fail, print_json

app = typer.Typer(help="Run a local Neo4j Community 5.26 server (needs Java 17+ and Maven).", no_args_is_help=True)


def default_run_dir() -> Path:
    base = os.environ.get("TRACEGRAPH_CACHE") or str(Path.home() / ".cache" / "tracegraph")
    return Path(base) / "run" / "neo4j"


RunDir = typer.Option(None, "--run-dir", help="Where the server keeps its data, logs and server.json")


@app.command()
def start(
    run_dir: Path | None = RunDir,
    port: int | None = typer.Option(None, "--port", help="Bolt port (default: a free one)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Download (once), start and wait for a local Neo4j server."""
    from graph.neo4j import server

    where = run_dir or default_run_dir()
    with domain_errors():
        running = server.status(where)
        if running is None:
            err_console.print("starting Neo4j (the first start downloads it from Maven Central)…", style="dim")
            running = server.start(where, port=port)
    if as_json:
        print_json({"uri": running.uri, "user": running.user, "store_url": running.store_url, "pid": running.pid})
        return
    console.print(f"Neo4j is running (pid {running.pid}) at {running.uri}")
    console.print(f"use it with:  --store '{running.store_url}'")


@app.command()
def stop(run_dir: Path | None = RunDir) -> None:
    """Stop the local server."""
    from graph.neo4j import server

    with domain_errors():
        stopped = server.stop(run_dir or default_run_dir())
    console.print("stopped" if stopped else "no local Neo4j server was running")


@app.command()
def status(run_dir: Path | None = RunDir) -> None:
    """Say whether the local server runs, and its store URL."""
    from graph.neo4j import server

    running = server.status(run_dir or default_run_dir())
    if running is None:
        fail("no local Neo4j server is running (start one with `tracegraph neo4j start`)", EXIT_STORE)
    console.print(f"running (pid {running.pid}) at {running.uri}; --store '{running.store_url}'")
