"""The GS1 Barcode Syntax Dictionary and the script that generates tables from it, for the
tests that check the committed tables are current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]


def syntax_dictionary_and_generator() -> tuple[str, ModuleType]:
    """The dictionary's text and ``scripts/gs1_exclusions.py`` loaded as a module; skips the
    test when the shared data does not hold the dictionary."""
    data = shared_data()
    dictionary = None if data is None else data / "barcodes" / "gs1-syntax-dictionary" / "gs1-syntax-dictionary.txt"
    if dictionary is None or not dictionary.is_file():
        pytest.skip("the GS1 syntax dictionary is not in the shared data")
    spec = importlib.util.spec_from_file_location("gs1_exclusions_script", ROOT / "scripts" / "gs1_exclusions.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return dictionary.read_text(encoding="utf-8"), script
