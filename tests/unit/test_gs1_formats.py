"""AI formats from the GS1 Barcode Syntax Dictionary, the engine's settings as parser
options, Digital Link data attributes, and the lenient readings of printed labels."""

from __future__ import annotations

import pytest

from schema.errors import InvalidKeyError
from schema.gs1_formats import FORMATS
from schema.identifiers import digital_link
from schema.udi import gs1_digital_link_uri, parse_udi
from tests.support.gs1 import syntax_dictionary_and_generator

GTIN = "09506000134352"


def test_the_generated_formats_are_current() -> None:
    text, script = syntax_dictionary_and_generator()
    generated = script.formats(text)
    committed = {
        ai: (f.fixed_length, f.dl_attribute, tuple(tuple(c) for c in f.components), f.dl_key_qualifiers)
        for ai, f in FORMATS.items()
    }
    assert committed == generated, "schema/gs1_formats.py is stale: run scripts/gs1_exclusions.py"


@pytest.mark.parametrize(
    ("scan", "valid"),
    [
        ("(8010)0200", True),  # CPID: Y..30 in the dictionary (biip's pattern wants 5 characters)
        ("]C180100200\x1d01" + GTIN, True),  # the same, raw
        ("(8010)02a0", False),  # lower case is not CSET 39
        ("(8010)" + "1" * 31, False),  # too long
        ("(8003)07071324001021085952", True),  # GRAI: zero, 13 digits with check digit, serial
        ("(8003)17071324001021", False),  # the first digit must be zero
        ("(8011)0123", False),  # CPID serial: no leading zero
        ("(00)106141412345678908(4321)1", True),  # dangerous goods: yes
        ("(00)106141412345678908(4321)2", False),  # yesno
        ("(00)106141412345678908(4324)2501019999", True),  # time unknown: 9999
        ("(00)106141412345678908(4324)2501012460", False),  # hhmi
        ("(01)09506000134352(8001)123456789012" + "1" + "0", True),  # roll: winding 1
        ("(01)09506000134352(8001)123456789012" + "5" + "0", False),  # winding
        ("(8006)095060001343520203", True),  # ITIP: piece 2 of 3
        ("(8006)095060001343520302", False),  # pieceoftotal
        ("(01)09506000134352(7251)202402301200", False),  # 30 February (yyyymmdd)
    ],
)
def test_ai_values_follow_the_syntax_dictionary(scan: str, valid: bool) -> None:
    parsed = parse_udi(scan)
    assert parsed.valid is valid, parsed.errors
    if not valid:
        assert "does not match its format" in parsed.errors[0] or "is not a valid date" in parsed.errors[0]


def test_cpid_errors_name_the_dictionary_format() -> None:
    assert parse_udi("(8010)02a0").errors == [
        "AI (8010) value '02a0' does not match its format Y..30: 'a' is not in GS1 CSET 39"
    ]


def test_unknown_ais_are_read_only_when_permitted() -> None:
    assert parse_udi("(01)09506000134352(89)ABC").errors == ["(89) is not a GS1 Application Identifier"]
    parsed = parse_udi("(01)09506000134352(89)ABC", permit_unknown_ais=True)
    assert parsed.valid and parsed.elements == {"01": GTIN, "89": "ABC"}
    assert parsed.warnings == [
        "AI (89) is not defined by GS1; read as up to 90 characters of CSET 82 (unknown AIs permitted)"
    ]
    uri = f"https://example.com/01/{GTIN}?89=ABC"
    assert not parse_udi(uri, permit_unknown_ais=True).valid  # not a data attribute, by default
    as_attribute = parse_udi(uri, permit_unknown_ais=True, validate_unknown_ai_not_dl_attr=False)
    assert as_attribute.valid and as_attribute.elements == {"01": GTIN, "89": "ABC"}


def test_zero_suppressed_gtins_in_digital_link() -> None:
    assert parse_udi("https://a/01/9506000134352").gtin == GTIN
    refused = parse_udi("https://a/01/9506000134352", permit_zero_suppressed_gtin_in_dl_uris=False)
    assert not refused.valid and "zero-suppressed GTIN-13" in refused.errors[0]
    query = parse_udi("https://a/8004/9520614141234567?01=9506000134352", permit_zero_suppressed_gtin_in_dl_uris=False)
    assert not query.valid


def test_convenience_alphas() -> None:
    read = parse_udi(f"https://a/gtin/{GTIN}/ser/S1")
    assert read.key == f"01/{GTIN}/21/S1" and "withdrawn" in read.warnings[0]
    refused = parse_udi(f"https://a/gtin/{GTIN}", permit_convenience_alphas=False)
    assert not refused.valid and "convenience alphas are not permitted" in refused.errors[0]


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        (f"https://a/01/{GTIN}?8200=https%3A%2F%2Fexample.com", "AI (8200) is not a GS1 Digital Link data attribute"),
        (f"https://a/01/{GTIN}?21=S1", "AI (21) is not a GS1 Digital Link data attribute"),
        (f"https://a/01/{GTIN}/21/S1?10=L1", "AI (10) qualifies (01) and belongs in the URI path"),
        (f"https://a/01/{GTIN}/21/S1/10/L1", "not a primary key followed by its key qualifiers in order"),
        (f"https://a/01/{GTIN}/235/TPX?21=S1", "AI (21) is not"),
    ],
)
def test_digital_link_attribute_rules(uri: str, error: str) -> None:
    parsed = parse_udi(uri)
    assert not parsed.valid
    assert any(error in e for e in parsed.errors), parsed.errors


def test_lot_may_be_a_query_attribute_where_it_cannot_qualify() -> None:
    # (10) is a key qualifier of (01) and a data attribute: with (235) in the path, it cannot qualify.
    assert parse_udi(f"https://a/01/{GTIN}/235/TPX1?10=L1").valid


def test_digital_link_with_attributes() -> None:
    scan = f"]d201{GTIN}17250101\x1d10L%1\x1d21S/1\x1d3103000150"
    assert digital_link(scan, attributes=True, base="https://example.com/") == (
        f"https://example.com/01/{GTIN}/10/L%251/21/S%2F1?17=250101&3103=000150"
    )
    assert digital_link(scan) == f"https://id.gs1.org/01/{GTIN}/21/S%2F1"  # the key only
    assert digital_link("+A99912345/$$52001510X3/16D20111212/S77DEFG457", attributes=True) is None
    with pytest.raises(InvalidKeyError, match=r"AI \(8200\) is not a GS1 Digital Link data attribute"):
        digital_link(f"(01){GTIN}(8200)https://example.com", attributes=True)
    with pytest.raises(InvalidKeyError, match="no GS1 Digital Link primary key"):
        gs1_digital_link_uri({"10": "L1"}, base="https://id.gs1.org")


def test_digital_link_round_trip() -> None:
    uri = digital_link(f"(01){GTIN}(22)V1(10)L1(99)X+Y&Z(17)250101", attributes=True)
    assert uri == f"https://id.gs1.org/01/{GTIN}/22/V1/10/L1?17=250101&99=X%2BY%26Z"  # fixed-length first
    assert parse_udi(uri).elements == {"01": GTIN, "22": "V1", "10": "L1", "17": "250101", "99": "X+Y&Z"}


def test_a_13_digit_gtin_in_printed_text_is_read_with_a_warning() -> None:
    parsed = parse_udi("(01)9506000134352(10)L1")
    assert parsed.valid and parsed.gtin == GTIN
    assert parsed.warnings == ["AI (01) 9506000134352 has 13 digits: read as the GTIN-13 it is, zero-padded to GTIN-14"]
    assert not parse_udi("(01)9506000134353(10)L1").valid  # the GTIN-13 check digit fails


def test_an_ai_printed_without_brackets_after_a_fixed_length_value() -> None:
    parsed = parse_udi("(01)00841396198953108117117(17)230301")
    assert parsed.valid and parsed.lot == "8117117" and parsed.expiry == "2023-03-01"
    assert "an AI printed without brackets" in parsed.warnings[0]
    # What follows must read as element strings, else there is no reading ...
    assert not parse_udi("(01)00841396198953ABC(17)230301").valid
    # ... and in one way only: lot ABC17250101, or lot ABC and (17) 2025-01-01?
    ambiguous = parse_udi("(01)0084139619895310ABC17250101")
    assert not ambiguous.valid and ambiguous.errors[0].startswith("ambiguous GS1 data")


def test_a_run_on_date_stays_ambiguous() -> None:
    # Issue #12: a lot run into a date AI without GS has two readings; both are reported.
    parsed = parse_udi("010703206980498810032915210526")
    assert not parsed.valid and len(parsed.readings) == 2
