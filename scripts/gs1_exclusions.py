"""Generate schema/gs1_exclusions.py and schema/gs1_formats.py from the GS1 Barcode
Syntax Dictionary.

TraceGraph does not read shared data at run time: this script turns the dictionary's
``ex=`` attributes (AIs that may not appear together), ``req=`` attributes (AIs that
need others beside them), and each AI's format specification and flags (components,
character sets, lengths, linters; fixed length; Digital Link data attribute) into
committed Python tables. Run it when the dictionary is updated, then review the diff:

    python scripts/gs1_exclusions.py ../shared/data/barcodes/gs1-syntax-dictionary/gs1-syntax-dictionary.txt
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "schema" / "gs1_exclusions.py"
FORMATS_TARGET = TARGET.with_name("gs1_formats.py")
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


#: A format component: ``[X..20,csum]`` -> optional, character set, lengths, linters.
_COMPONENT = re.compile(
    r"(?P<open>\[)?(?P<cset>[NXYZ])(?P<min>[0-9]*)(?:\.\.(?P<max>[0-9]+))?\]?(?P<linters>(?:,[a-z0-9]+)*)\]?"
)

Component = tuple[str, int, int, bool, tuple[str, ...]]
Format = tuple[bool, bool, tuple[Component, ...], tuple[tuple[str, ...], ...] | None]


def formats(text: str) -> dict[str, Format]:
    """AI -> (fixed length, Digital Link data attribute, components, Digital Link key
    qualifier sequences or None) from each entry's flags (``*``, ``?``), specification and
    ``dlpkey`` attribute."""
    table: dict[str, Format] = {}
    for line in _entries(text):
        words = line[1:]
        flags = words.pop(0) if words and not _COMPONENT.fullmatch(words[0]) else ""
        components: list[Component] = []
        for word in words:
            match = _COMPONENT.fullmatch(word)
            if match is None:
                break  # the attributes (req=, ex=, dlpkey …) follow the specification
            low = int(match["min"]) if match["min"] else 1
            high = int(match["max"]) if match["max"] else low
            linters = tuple(name for name in match["linters"].split(",") if name)
            components.append((match["cset"], low, high, bool(match["open"]), linters))
        qualifiers: tuple[tuple[str, ...], ...] | None = None
        for word in words:
            if word == "dlpkey":
                qualifiers = ((),)
            elif word.startswith("dlpkey="):
                qualifiers = tuple(tuple(seq.split(",")) for seq in word.removeprefix("dlpkey=").split("|"))
        for ai in _ais(line[0]):
            table[ai] = ("*" in flags, "?" in flags, tuple(components), qualifiers)
    return dict(sorted(table.items()))


def render_formats(table: dict[str, Format]) -> str:
    """The formats module; ``ruff format`` it after writing (long entries are wrapped)."""

    def component(c: Component) -> str:
        linters = _tuple(c[4]) if c[4] else "()"
        return f'AiComponent("{c[0]}", {c[1]}, {c[2]}, {c[3]}, {linters})'

    def sequences(qualifiers: tuple[tuple[str, ...], ...] | None) -> str:
        if qualifiers is None:
            return "None"
        listed = ", ".join(_tuple(seq) if seq else "()" for seq in qualifiers)
        return f"({listed},)" if len(qualifiers) == 1 else f"({listed})"

    def entry(
        ai: str,
        fixed: bool,
        attribute: bool,
        parts: tuple[Component, ...],
        qualifiers: tuple[tuple[str, ...], ...] | None,
    ) -> str:
        listed = ", ".join(component(c) for c in parts) + ("," if len(parts) == 1 else "")
        return f'    "{ai}": AiFormat({fixed}, {attribute}, ({listed}), {sequences(qualifiers)}),'

    rows = "\n".join(entry(ai, *spec) for ai, spec in table.items())
    return (
        '"""GS1 AI formats: the data field of each Application Identifier, component by component.\n\n'
        f"Generated from the GS1 Barcode Syntax Dictionary ({SOURCE})\n"
        "by scripts/gs1_exclusions.py; do not edit.\n\n"
        "``FORMATS`` maps an AI to whether it has a predefined length (no FNC1 after it),\n"
        "whether GS1 Digital Link permits it as a data attribute (query parameter), and its\n"
        "components: character set (N digits, X CSET 82, Y CSET 39, Z base64url), minimum and\n"
        "maximum length, whether it is optional, and the names of the dictionary's linters;\n"
        "and, for a Digital Link primary key, the sequences of key qualifiers that may follow\n"
        "it in the URI path, in order (any of each sequence may be left out).\n"
        '"""\n\n'
        "from typing import NamedTuple\n\n\n"
        "class AiComponent(NamedTuple):\n"
        "    charset: str\n"
        "    min_length: int\n"
        "    max_length: int\n"
        "    optional: bool\n"
        "    linters: tuple[str, ...]\n\n\n"
        "class AiFormat(NamedTuple):\n"
        "    fixed_length: bool\n"
        "    dl_attribute: bool\n"
        "    components: tuple[AiComponent, ...]\n"
        "    dl_key_qualifiers: tuple[tuple[str, ...], ...] | None\n\n\n"
        "FORMATS: dict[str, AiFormat] = {\n"
        f"{rows}\n"
        "}\n"
    )


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    text = Path(sys.argv[1]).read_text(encoding="utf-8")
    TARGET.write_text(render(exclusions(text), requisites(text)), encoding="utf-8")
    FORMATS_TARGET.write_text(render_formats(formats(text)), encoding="utf-8")
    print(f"wrote {TARGET} and {FORMATS_TARGET}")


if __name__ == "__main__":
    main()
