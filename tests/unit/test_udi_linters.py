"""The GS1 Barcode Syntax Dictionary linters, checked on the AIs that carry them.

The passing and failing values are those of the GS1 Barcode Syntax Engine's own unit
tests (``test_lint_*`` in ``src/c-lib/syntax/lint_*.c`` of gs1/gs1-syntax-engine), fitted
to the length of the AI's component where the engine's test value is longer or shorter.
"""

from __future__ import annotations

import pytest

from schema.errors import InvalidKeyError
from schema.gs1_formats import FORMATS
from schema.udi import (
    CHECKED_LINTERS,
    REQUISITE_MISSING,
    UNCHECKED_LINTERS,
    gs1_check_character_pair,
    parse_udi,
)


def value_errors(ai: str, value: str) -> list[str]:
    """What is wrong with ``(ai)value``, requisites aside (they hold over a whole label)."""
    escaped = value.replace("(", "\\(")  # a bracket in bracketed data is written \(
    parsed = parse_udi(f"({ai}){escaped}")
    return [error for error in parsed.errors if not error.startswith(REQUISITE_MISSING)]


def assert_lints(
    ai: str, linter: str, passing: list[str], failing: list[str], *, prefix: str = "", suffix: str = ""
) -> None:
    """Each value, between ``prefix`` and ``suffix`` (the AI's other components), passes or
    fails; a failure is one error naming the AI, the value and the linter."""
    for value in passing:
        assert value_errors(ai, prefix + value + suffix) == [], f"({ai}){prefix}{value}{suffix} should pass {linter}"
    for value in failing:
        errors = value_errors(ai, prefix + value + suffix)
        assert len(errors) == 1, f"({ai}){prefix}{value}{suffix} should fail {linter}"
        assert f"AI ({ai})" in errors[0] and prefix + value in errors[0] and f"({linter})" in errors[0], errors[0]


def test_csumalpha_the_gmn_check_character_pair() -> None:
    # (8013) GMN, the Basic UDI-DI of the EU MDR; GS1's example GMN is the first.
    assert_lints(
        "8013",
        "csumalpha",
        passing=[
            "1987654Ad4X4bL5ttr2310c2K",
            "12345678901234567890123NT",
            "12345_ABCDEFGHIJKLMCP",
            "12345_abcdefghijklmN3",
            "12345_!\"%&'()*+,-./LC",
            "12345_0123456789:;<=>?62",
            "7907665Bm8v2AB",
            "149512464PM+GH",
            "00000!HV",
            "99999zzzzzzzzzzzzzzzzzzT2",
            "22",
            "!22",
        ],
        failing=["1987654Ad4X4bL5ttr2310cXK", "1987654Ad4X4bL5ttr2310c2X", "33", "2"],
    )


def test_csumalpha_refuses_check_characters_outside_cset_32() -> None:
    # '1' and 'I' look alike, so CSET 32 has neither; a pair with one is never valid.
    (error,) = value_errors("8013", "1234567890123456789012310")
    assert "'1' is not in GS1 CSET 32 (csumalpha)" in error


def test_the_check_character_pair_is_computed_from_the_data() -> None:
    assert gs1_check_character_pair("1987654Ad4X4bL5ttr2310c") == "2K"
    assert gs1_check_character_pair("") == "22"
    assert gs1_check_character_pair("99999zzzzzzzzzzzzzzzzzz") == "T2"
    with pytest.raises(InvalidKeyError, match="not in GS1 CSET 82"):
        gs1_check_character_pair("12 3")


def test_csumalpha_also_guards_the_gmn_in_a_digital_link() -> None:
    assert parse_udi("https://id.gs1.org/8013/1987654Ad4X4bL5ttr2310c2K").valid
    refused = parse_udi("https://id.gs1.org/8013/1987654Ad4X4bL5ttr2310cXK")
    assert not refused.valid and "csumalpha" in refused.errors[0]


def test_iso3166_numeric_country_codes() -> None:
    assert_lints("422", "iso3166", passing=["004", "008", "010", "894"], failing=["000", "001", "005", "999"])


def test_iso3166999_country_code_or_999() -> None:
    # (7030): the country of the processor, then its approval number.
    assert_lints("7030", "iso3166999", passing=["999", "004", "894"], failing=["000", "998"], suffix="ABC")


def test_iso3166alpha2_country_codes() -> None:
    assert_lints("4307", "iso3166alpha2", passing=["AD", "AE", "FR", "ZW"], failing=["AA", "AB", "AH", "EU", "ZZ"])


def test_iso4217_numeric_currency_codes() -> None:
    # (3910): a currency, then the amount payable with one decimal.
    assert_lints("3910", "iso4217", passing=["008", "012", "978"], failing=["000", "004", "009"], suffix="100")
    (error,) = value_errors("3910", "000100")
    assert "'000' is not an ISO 4217 numeric currency code (iso4217)" in error


def test_iso5218_sex_codes() -> None:
    assert_lints("7252", "iso5218", passing=["0", "1", "2", "9"], failing=["3", "4", "5", "6", "7", "8"])


def test_pcenc_percent_encoding() -> None:
    assert_lints(
        "4300",
        "pcenc",
        passing=["A", "%00", "%FF", "%Ff", "%ff", "ABC%20", "ABC%20XYZ", "ABCDEFGHIJKLMNOPQRSTUVWXYZ%00+12345"],
        failing=["%fg", "%gf", "%g", "ABC%fg", "ABC%g", "ABC%gXYZ"],
    )


def test_latitude_and_longitude() -> None:
    # (4309) holds a latitude, then a longitude, each 10 digits.
    assert_lints(
        "4309",
        "latitude",
        passing=["0279085848", "0000000000", "1800000000"],
        failing=["1800000001"],
        suffix="3015297971",
    )
    assert_lints(
        "4309",
        "longitude",
        passing=["3015297971", "0000000000", "3600000000"],
        failing=["3600000001"],
        prefix="0279085848",
    )


def test_posinseqslash_position_in_sequence() -> None:
    # (7258) has three characters, so the engine's three-character values.
    assert_lints(
        "7258",
        "posinseqslash",
        passing=["1/1", "1/3", "2/3", "3/3", "8/9", "9/9"],
        failing=["1//", "//1", "x/y", "0/1", "1/0", "0/0", "2/1", "9/8"],
    )


def test_iban() -> None:
    assert_lints(
        "8007",
        "iban",
        passing=[
            "FR7630006000011234567890189",
            "DE91100000000123456789",
            "GR9608100010000001234567890",
            "MU43BOMM0101123456789101000MUR",
            "PL10105000997603123456789123",
            "CH5604835012345678009",
            "GB98MIDL07009312345678",
            "BE71096123456769",
            "LC14BOSL123456789012345678901234",
            "MT90MALT011000012345MTLCAST001SABC",
        ],
        failing=[
            "BE71096123456760",
            "LC14BOSL123456789012345678901230",
            "MT90MALT011000012345MTLCAST001SAB0",
            "B",
            "BE71",
            "LC14BOSLxx3456789012345678901230",
            "XX361234567890",
        ],
    )


def test_importeridx() -> None:
    # (7040): a digit, two characters, then the importer index the linter checks.
    assert_lints(
        "7040",
        "importeridx",
        passing=["-", "0", "9", "A", "Z", "_", "a", "z"],
        failing=["!", "*", "+", ",", ".", "/", ":", "?"],
        prefix="1A2",
    )


def test_mediatype() -> None:
    assert_lints("7241", "mediatype", passing=["01", "05", "10", "80", "99"], failing=["00", "11", "30", "60", "79"])


def test_every_linter_of_the_dictionary_is_checked_or_listed_as_unchecked() -> None:
    used = {linter for spec in FORMATS.values() for component in spec.components for linter in component.linters}
    assert used <= CHECKED_LINTERS | UNCHECKED_LINTERS, used - CHECKED_LINTERS - UNCHECKED_LINTERS
    assert not CHECKED_LINTERS & UNCHECKED_LINTERS
