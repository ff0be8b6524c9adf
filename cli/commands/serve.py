"""``tracegraph serve``: the HTTP API (REST, GraphQL, EPCIS) on uvicorn."""

from __future__ import annotations

import typer

from cli.context import state


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port"),
) -> None:
    """Serve the API: REST under /api/v1, GraphQL at /graphql, EPCIS 2.0 under /epcis."""
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    st = state(ctx)
    # The global --store and --busy-timeout win; every other setting comes from TRACEGRAPH_*.
    settings = ApiSettings(store=st.store_url, busy_timeout=st.busy_timeout)
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False, server_header=False)
