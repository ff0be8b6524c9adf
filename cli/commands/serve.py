"""``tracegraph serve``: the HTTP API (REST, GraphQL, EPCIS) on uvicorn."""

from __future__ import annotations

import ipaddress

import typer

from cli.context import domain_errors, err_console, fail, state

LOOPBACK = "127.0.0.1"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port"),
    dev: bool = typer.Option(
        False, "--dev", help="Development mode: no sign-in, GraphiQL on, 127.0.0.1 only (never for real data)"
    ),
) -> None:
    """Serve the API: REST under /api/v1, GraphQL at /graphql, EPCIS 2.0 under /epcis.

    Sign-in is required (API keys: tracegraph keys create) unless --dev or TRACEGRAPH_ENVIRONMENT=development.
    """
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    st = state(ctx)
    # The global --store and --busy-timeout win; every other setting comes from TRACEGRAPH_*.
    overrides: dict[str, object] = {"store": st.store_url, "busy_timeout": st.busy_timeout}
    if dev is True:  # `is True`: called as a function (demo --serve), an unset option is its OptionInfo
        overrides["environment"] = "development"
    with domain_errors():
        settings = ApiSettings(**overrides)  # type: ignore[arg-type]
        if settings.development:
            if not _loopback(host):
                fail(f"development mode serves this machine only: --host {host} refused (use 127.0.0.1)")
            err_console.print(
                "[bold red]DEVELOPMENT MODE[/]: no sign-in — every request acts as admin; GraphiQL and "
                f"introspection on; listening on {LOOPBACK} only. Never use it for real data.",
                highlight=False,
            )
        app = create_app(settings)
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False)
