"""The ``tracegraph`` command."""

from __future__ import annotations

import typer

from cli.commands import (
    alerts,
    audit,
    backup,
    copy,
    demo,
    dictionary,
    drill,
    keys,
    kpis,
    load,
    mapping,
    migrate,
    neo4j,
    nmpa,
    quality,
    recall,
    report,
    serve,
    show,
    sign,
    signals,
    sources,
    stats,
    suppliers,
    trace,
    udi,
    verify,
)
from cli.context import State, domain_errors
from i18n import DEFAULT_LANGUAGE, set_language
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
    actor: str | None = typer.Option(
        None, "--actor", envvar="TRACEGRAPH_ACTOR", help="Who the audit trail records (default: os:<your account>)"
    ),
    lang: str = typer.Option(
        DEFAULT_LANGUAGE, "--lang", envvar="TRACEGRAPH_LANG", help="Language of the output: en or zh (中文)"
    ),
) -> None:
    with domain_errors():
        set_language(lang)
    ctx.call_on_close(lambda: set_language(DEFAULT_LANGUAGE))  # in-process callers (tests) start afresh
    ctx.obj = State(store_url=store, busy_timeout=busy_timeout, actor=actor)


for module in (demo, load, trace, show, stats, migrate, copy, serve, quality, dictionary):
    module.register(app)
app.add_typer(neo4j.app, name="neo4j")
app.add_typer(udi.app, name="udi")
app.add_typer(mapping.app, name="mapping")
for module in (recall, signals, sources):
    module.register(app)
app.add_typer(suppliers.app, name="suppliers")
app.add_typer(alerts.app, name="alerts")
app.add_typer(alerts.tasks_app, name="tasks")
for module in (audit, report, verify, sign, drill, kpis):
    module.register(app)
for module in (keys, backup):
    module.register(app)
nmpa.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
