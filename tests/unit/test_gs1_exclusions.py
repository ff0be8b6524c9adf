"""GS1 mutually exclusive AIs: refused in one barcode; the generated table is current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from schema.udi import parse_udi
from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]


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


def test_requisites_are_left_to_the_label() -> None:
    # A label's data carrier symbol has no (01): valid by itself, naming no thing.
    parsed = parse_udi("(10)L1(17)250101")
    assert parsed.valid and parsed.key is None
    assert parse_udi("(01)09506000134352(3100)000100(3200)000220").valid  # kg and lb: not excluded


def test_the_generated_table_is_current() -> None:
    data = shared_data()
    dictionary = None if data is None else data / "barcodes" / "gs1-syntax-dictionary" / "gs1-syntax-dictionary.txt"
    if dictionary is None or not dictionary.is_file():
        pytest.skip("the GS1 syntax dictionary is not in the shared data")
    spec = importlib.util.spec_from_file_location("gs1_exclusions_script", ROOT / "scripts" / "gs1_exclusions.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    generated = script.render(script.exclusions(dictionary.read_text(encoding="utf-8")))
    assert generated == (ROOT / "schema" / "gs1_exclusions.py").read_text(encoding="utf-8"), (
        "schema/gs1_exclusions.py is stale: run scripts/gs1_exclusions.py"
    )
