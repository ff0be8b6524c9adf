"""Generate schema/gs1_exclusions.py from the GS1 Barcode Syntax Dictionary.

TraceGraph does not read shared data at run time: this script turns the dictionary's
``ex=`` attributes (AIs that may not appear together) into a committed Python table.
Run it when the dictionary is updated, then review the diff:

    python scripts/gs1_exclusions.py ../shared/data/barcodes/gs1-syntax-dictionary/gs1-syntax-dictionary.txt

Requisites (``req=``) are left out on purpose: they hold for a whole label, and one symbol of
a label (its data carrier ``(10)…(17)…``) lacks its (01) by design.
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


def exclusions(text: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        patterns = [p.removeprefix("ex=") for p in line[1:] if p.startswith("ex=")]
        if patterns:
            for ai in _ais(line[0]):
                table[ai] = tuple(patterns[0].split(","))
    return dict(sorted(table.items()))


def _tuple(patterns: tuple[str, ...]) -> str:
    items = ", ".join(f'"{p}"' for p in patterns)
    return f"({items},)" if len(patterns) == 1 else f"({items})"


def render(table: dict[str, tuple[str, ...]]) -> str:
    """The module, written as ruff format writes it, so that regenerating changes nothing."""
    rows = "\n".join(f'    "{ai}": {_tuple(patterns)},' for ai, patterns in table.items())
    return (
        '"""GS1 AI mutual exclusions: which Application Identifiers may not appear together.\n\n'
        f"Generated from the GS1 Barcode Syntax Dictionary ({SOURCE})\n"
        "by scripts/gs1_exclusions.py; do not edit. An AI maps to the AIs it excludes, as\n"
        "patterns in which ``n`` stands for any digit; an AI never excludes itself.\n"
        '"""\n\n'
        "EXCLUSIONS: dict[str, tuple[str, ...]] = {\n"
        f"{rows}\n"
        "}\n"
    )


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    TARGET.write_text(render(exclusions(Path(sys.argv[1]).read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
