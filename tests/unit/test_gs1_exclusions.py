"""GS1 AI associations: exclusions and requisites are enforced; the generated tables are current."""

from __future__ import annotations

import pytest

from schema.udi import parse_udi
from tests.support.gs1 import ROOT, syntax_dictionary_and_generator


@pytest.mark.parametrize(
    ("scan", "error"),
    [
        ("(01)09506000134352(02)09506000134352", "AI (02) and AI (01) may not appear together"),
        ("(01)09506000134352(21)S1(235)TPX", "AI (21) and AI (235) may not appear together"),
        ("(01)09506000134352(3100)000100(3101)001000", "AI (3100) and AI (3101) may not appear together"),
    ],
)
def test_mutually_exclusive_ais_are_refused(scan: str, error: str) -> None:
    parsed = parse_udi(scan)
    assert not parsed.valid and parsed.key is None
    assert [e for e in parsed.errors if "may not appear together" in e] == [error + " (GS1 mutually exclusive AIs)"]


def test_missing_requisites_are_refused() -> None:
    # GS1 requisites (syntax dictionary req=): (21) needs (01), (03) or (8006); (250) needs a serial too.
    parsed = parse_udi("(21)S1")
    assert not parsed.valid and parsed.key is None
    assert parsed.errors[0].startswith("GS1 requisite AI missing: AI (21) needs (01) or (03) or (8006)")
    assert not parse_udi("(01)09506000134352(250)ABC").valid
    assert parse_udi("(01)09506000134352(21)S1(250)ABC").valid
    assert parse_udi("(01)09506000134352(3100)000100(3200)000220").valid  # kg and lb: not excluded


def test_the_symbols_of_one_label_are_judged_together() -> None:
    # A label's second symbol (10)…(21)… lacks its (01) alone; read with the first, it has it.
    assert not parse_udi("(10)L1(21)S1").valid
    label = parse_udi("]C1010950600013435217250101\n]C110L1\x1d21S1")
    assert label.valid and label.key == "01/09506000134352/21/S1" and label.expiry == "2025-01-01"
    # A fault in one symbol is reported with its line.
    bad = parse_udi("(01)09506000134352\n(10)L1(01)09506000134353")
    assert not bad.valid and bad.errors[0].startswith("line 2: AI (01): GTIN")


def test_digsig_needs_a_serialised_key() -> None:
    assert not parse_udi("(253)1234567890128(8030)ABC123").valid
    assert parse_udi("(253)1234567890128X(8030)ABC123").valid


def test_the_generated_table_is_current() -> None:
    text, script = syntax_dictionary_and_generator()
    generated = script.render(script.exclusions(text), script.requisites(text))
    assert generated == (ROOT / "schema" / "gs1_exclusions.py").read_text(encoding="utf-8"), (
        "schema/gs1_exclusions.py is stale: run scripts/gs1_exclusions.py"
    )
