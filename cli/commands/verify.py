"""``tracegraph verify FILE.zip``: is this evidence package as it was generated?"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from cli.commands.audit import EXIT_INTEGRITY
from cli.context import EXIT_NOT_FOUND, console, err_console, fail, print_json, state
from reports.evidence import verify_package
from services.settings import Settings


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)


def verify(
    ctx: typer.Context,
    package: Path = typer.Argument(..., help="An evidence package (ZIP) made by `tracegraph report … --package`"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object"),
) -> None:
    """Check every file and record against the manifest (and its signature when TRACEGRAPH_SIGNING_KEY
    is set): exit 0 when intact, 6 naming each altered, added or removed file or record."""
    if not package.is_file():
        fail(f"no such file: {package}", EXIT_NOT_FOUND)
    try:
        settings = Settings(store=state(ctx).store_url)
    except ValueError as exc:
        fail(f"settings: {exc}")
    key = settings.signing_key.get_secret_value() if settings.signing_key is not None else None
    result = verify_package(package, signing_key=key)
    if as_json:
        print_json(result.to_json())
    elif result.ok:
        console.print(
            f"{escape(str(package))}: intact: {result.files} file(s) and {result.records} record(s) match the "
            f"manifest; signature {result.signature}; manifest SHA-256 {result.manifest_sha256}",
            highlight=False,
        )
    else:
        err_console.print(
            f"[bold red]{escape(str(package))} does not verify:[/] {len(result.problems)} problem(s)", highlight=False
        )
        for problem in result.problems:
            err_console.print(f"  {escape(problem)}", highlight=False, soft_wrap=True)
    if not as_json:
        for signed in result.signed_by:
            console.print(
                f"  signed by {escape(str(signed.get('printed_name')))} ({escape(str(signed.get('signer')))}) on "
                f"{signed.get('signed_at')}: {signed.get('meaning')}; check with `tracegraph sign verify`",
                highlight=False,
            )
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if not result.ok:
        raise typer.Exit(EXIT_INTEGRITY)
