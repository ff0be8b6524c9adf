"""``tracegraph dictionary``: the data dictionary, generated from the schema."""

from __future__ import annotations

import sys

import typer

from cli.context import domain_errors, fail, print_json
from i18n import current_language, normalize
from loaders.csvset import CSV_FILES
from schema.dictionary import json_schema, markdown, markdown_zh

FORMATS = ("md", "json-schema")


def register(app: typer.Typer) -> None:
    app.command("dictionary")(dictionary)


def dictionary(
    fmt: str = typer.Option(
        "md", "--format", help="md (Markdown, as docs/reference/data-dictionary.md) or json-schema"
    ),
    lang: str | None = typer.Option(None, "--lang", help="en or zh (中文); default: the global --lang"),
) -> None:
    """Every node kind, relationship type and fact field, with meaning, type, unit and key rules."""
    with domain_errors():
        language = normalize(lang) if lang else current_language()
    if fmt == "md":
        sys.stdout.write(markdown_zh(CSV_FILES) if language == "zh_Hans" else markdown(CSV_FILES))
        sys.stdout.flush()
    elif fmt == "json-schema":
        print_json(json_schema(CSV_FILES))
    else:
        fail(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'")
