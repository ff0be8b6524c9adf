"""``tracegraph udi parse``: what a scanned UDI barcode says, and the key it names.

A scanner in keyboard mode types the barcode into the terminal, but a terminal cannot
take the GS (FNC1, 0x1D) separator of a GS1 element string as typed text. So the barcode
may be given three ways: with a real GS (bash: ``$'01…10L1\\x1d21S1'``); with ``<GS>`` or
``␝`` (U+241D, as printed in GS1 documents) written where the GS goes; or as ``-``, read
from standard input (``printf '01…\\x1d21S1' | tracegraph udi parse -``).
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import EXIT_INVALID, console, err_console, print_json
from schema.udi import GS, UdiParse, parse_udi

app = typer.Typer(help="Read UDI barcodes: GS1 (element strings, Digital Link), HIBCC, MA.", no_args_is_help=True)

#: Written stand-ins for the GS character; neither can occur in GS1 or HIBCC data.
GS_PLACEHOLDERS = ("<GS>", "\u241d")


def barcode_text(argument: str) -> str:
    """The barcode as the parser needs it: from stdin for ``-``, placeholders made GS."""
    text = sys.stdin.read() if argument == "-" else argument
    # The Enter a scanner sends after the data is not part of the barcode.
    text = text.rstrip("\r\n")
    for placeholder in GS_PLACEHOLDERS:
        text = text.replace(placeholder, GS)
    return text


@app.command("parse")
def parse(
    barcode: str = typer.Argument(
        ..., help="The barcode data; '-' reads it from stdin. Write the GS separator as <GS> or pass a real 0x1D."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the parse as one JSON object (UdiParse)"),
    permit_unknown_ais: bool = typer.Option(
        False,
        "--permit-unknown-ais/--no-permit-unknown-ais",
        help="Read an AI GS1 does not define (bracketed data, Digital Link) as up to 90 characters of CSET 82, "
        "with a warning, instead of refusing the barcode.",
    ),
    permit_zero_suppressed_gtin: bool = typer.Option(
        True,
        "--permit-zero-suppressed-gtin-in-dl-uris/--no-permit-zero-suppressed-gtin-in-dl-uris",
        help="Read a GTIN-8, -12 or -13 as the (01) of a Digital Link URI, zero-padded to 14 digits. "
        "Off, the GTIN in a URI must have 14 digits.",
    ),
    permit_convenience_alphas: bool = typer.Option(
        True,
        "--permit-convenience-alphas/--no-permit-convenience-alphas",
        help="Read the Digital Link 1.0 path names (/gtin/…, /ser/…) as their AIs, with a warning. "
        "Off, only numeric AIs are read, as Digital Link 1.1 requires.",
    ),
    validate_unknown_ai_not_dl_attr: bool = typer.Option(
        True,
        "--validate-unknown-ai-not-dl-attr/--no-validate-unknown-ai-not-dl-attr",
        help="With --permit-unknown-ais, still refuse an unknown AI as a Digital Link data attribute "
        "(query parameter).",
    ),
) -> None:
    """Parse one UDI barcode and print what it says; exit 2 when it is not valid.

    GS1 settings: those of GS1's reference parser, the GS1 Barcode Syntax Engine; the defaults suit scanning.
    """
    parsed = parse_udi(
        barcode_text(barcode),
        permit_unknown_ais=permit_unknown_ais,
        permit_zero_suppressed_gtin_in_dl_uris=permit_zero_suppressed_gtin,
        permit_convenience_alphas=permit_convenience_alphas,
        validate_unknown_ai_not_dl_attr=validate_unknown_ai_not_dl_attr,
    )
    if as_json:
        print_json(parsed.model_dump(mode="json"))
    else:
        console.print(_table(parsed))
    for warning in parsed.warnings:
        err_console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if not parsed.valid:
        for error in parsed.errors or ["not a valid UDI"]:
            err_console.print(f"[bold red]error:[/] {escape(error)}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID)


def _table(parsed: UdiParse) -> Table:
    table = Table("field", "value", title="UDI" + (f" ({parsed.issuer})" if parsed.issuer else ""))
    table.add_row("valid", "yes" if parsed.valid else "[red]no[/]")
    if parsed.valid:
        table.add_row("key", escape(parsed.key) if parsed.key else "[dim]none: it names no single thing[/]")
    for name in ("di", "gtin", "lic", "product_code", "lot", "serial", "expiry", "manufactured", "quantity"):
        value = getattr(parsed, name)
        if value is not None:
            table.add_row(name, escape(str(value)))  # data, never markup: a lot may be "[A1]"
    for name, value in parsed.elements.items():
        table.add_row(f"[dim]{escape(name)}[/]", escape(value))
    for number, reading in enumerate(parsed.readings, start=1):
        table.add_row(f"reading {number}", escape("".join(f"({ai}){value}" for ai, value in reading.items())))
    return table
