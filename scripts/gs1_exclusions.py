"""Generate schema/gs1_exclusions.py from the GS1 Barcode Syntax Dictionary.

TraceGraph does not read shared data at run time: this script turns the dictionary's
``ex=`` attributes (AIs that may not appear together) and ``req=`` attributes (AIs that
need others beside them) into committed Python tables. Run it when the dictionary is
updated, then review the diff:

    python scripts/gs1_exclusions.py ../shared/data/barcodes/gs1-syntax-dictionary/gs1-syntax-dictionary.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "schema" / "gs1_exclusions.py"
SOURCE = "gs1/gs1-syntax-dictionary @ ff2eb4bf (Apache-2.0)"


def _ais(spec: str) -> list[str]:
    """``3100-3105`` -> 3100 … 3105; ``01`` -> 01."""
    if "-" not in spec:
        return [spec]
    first, last = spec.split("-")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def _entries(text: str) -> list[list[str]]:
    """The dictionary's entries, split into words, comments dropped."""
    return [words for raw in text.splitlines() if (words := raw.split("#", 1)[0].split())]


def exclusions(text: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in _entries(text):
        patterns = [p.removeprefix("ex=") for p in line[1:] if p.startswith("ex=")]
        if patterns:
            for ai in _ais(line[0]):
                table[ai] = tuple(patterns[0].split(","))
    return dict(sorted(table.items()))


def requisites(text: str) -> dict[str, tuple[str, ...]]:
    """AI -> its ``req=`` rules, in the dictionary's own notation (``01+21,03+21``)."""
    table: dict[str, tuple[str, ...]] = {}
    for line in _entries(text):
        rules = tuple(p.removeprefix("req=") for p in line[1:] if p.startswith("req="))
        if rules:
            for ai in _ais(line[0]):
                table[ai] = rules
    return dict(sorted(table.items()))


def _tuple(patterns: tuple[str, ...]) -> str:
    items = ", ".join(f'"{p}"' for p in patterns)
    return f"({items},)" if len(patterns) == 1 else f"({items})"


def render(table: dict[str, tuple[str, ...]], required: dict[str, tuple[str, ...]]) -> str:
    """The module, written as ruff format writes it, so that regenerating changes nothing."""
    rows = "\n".join(f'    "{ai}": {_tuple(patterns)},' for ai, patterns in table.items())
    requisite_rows = "\n".join(f'    "{ai}": {_tuple(rules)},' for ai, rules in required.items())
    return (
        '"""GS1 AI associations: which Application Identifiers may not, or must, appear together.\n\n'
        f"Generated from the GS1 Barcode Syntax Dictionary ({SOURCE})\n"
        "by scripts/gs1_exclusions.py; do not edit. Patterns may use ``n`` for any digit.\n\n"
        "``EXCLUSIONS`` maps an AI to the AIs it excludes (``ex=``); an AI never excludes itself.\n"
        "``REQUISITES`` maps an AI to its ``req=`` rules, as the dictionary writes them: a rule\n"
        "``01+21,03+21`` is met by any one of its comma-separated alternatives, and an\n"
        "alternative by all of its ``+``-joined patterns.\n"
        '"""\n\n'
        "EXCLUSIONS: dict[str, tuple[str, ...]] = {\n"
        f"{rows}\n"
        "}\n\n"
        "REQUISITES: dict[str, tuple[str, ...]] = {\n"
        f"{requisite_rows}\n"
        "}\n"
    )


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    text = Path(sys.argv[1]).read_text(encoding="utf-8")
    TARGET.write_text(render(exclusions(text), requisites(text)), encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
