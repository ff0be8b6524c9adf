"""The column reference of docs/reference/csv-format.md, rendered from ``CSV_FILES``.

The document is written by hand around these sections; a unit test checks that every
section appears in it verbatim, so the reference cannot drift from the reader.
"""

from __future__ import annotations

from loaders.csvset.format import CSV_FILES, CsvFile


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def file_section(spec: CsvFile) -> str:
    """The reference section of one file: what a row is, its facts, and its columns."""
    lines = [
        f"### `{spec.name}` — {spec.title}",
        "",
        f"One row: {spec.row}. Facts: {spec.facts}.",
        "",
        "| column | required | type | meaning | example |",
        "|---|---|---|---|---|",
    ]
    for column in spec.columns:
        lines.append(
            f"| `{column.name}` | {'yes' if column.required else 'no'} | {_cell(column.type_text)} "
            f"| {_cell(column.meaning)} | {f'`{_cell(column.example)}`' if column.example else ''} |"
        )
    return "\n".join(lines) + "\n"


def reference_sections() -> str:
    """Every file's section, in the order a directory is read."""
    return "\n".join(file_section(spec) for spec in CSV_FILES.values())
