"""Keeping the catalogues in step with the code.

``python -m i18n.catalogue`` extracts every message marked with ``_``, ``gettext``,
``ngettext`` or ``N_`` (Babel's Python extractor) from the project's packages and merges them
into each language's ``.po`` file: new messages arrive untranslated, vanished ones are
dropped. Translate the new entries (an empty ``msgstr``), then run the i18n tests, which fail
while any message lacks a translation.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES

#: The packages whose messages the catalogues hold.
PACKAGES = ("api", "cli", "i18n", "reports", "risk", "services", "schema")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
ROOT = Path(__file__).resolve().parents[1]


def extract(root: Path = ROOT) -> Catalog:
    """Every marked message in the project's code, with where it is used."""
    catalog = Catalog(domain=DOMAIN, project="TraceGraph", charset="utf-8")
    for package in PACKAGES:
        found: Iterator[tuple[str, int, str | tuple[str, ...], list[str], str | None]] = extract_from_dir(
            root / package, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        )
        for filename, lineno, message, comments, context in found:
            catalog.add(message, None, [(f"{package}/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return Path(str(resources.files("i18n").joinpath("locale", language, "LC_MESSAGES", f"{DOMAIN}.po")))


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def update(root: Path = ROOT) -> list[str]:
    """Merge the extracted messages into every translated catalogue; returns the untranslated ids."""
    template = extract(root)
    untranslated: list[str] = []
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language)
        catalog = read(language) if path.exists() else Catalog(locale=language, domain=DOMAIN, project="TraceGraph")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=False, omit_header=False)
        untranslated += [f"{language}: {m.id}" for m in catalog if m.id and not m.string]
    return untranslated


if __name__ == "__main__":
    missing = update()
    for line in missing:
        print(line, file=sys.stderr)
    sys.exit(1 if missing else 0)
