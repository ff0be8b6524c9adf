"""UDI barcode parsing: GS1, HIBCC, MA, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from schema.errors import InvalidKeyError
from schema.identifiers import canonical_key
from schema.udi import AHM_UNSUPPORTED, BARE_SSCC_WARNING, NOT_GS1_DATA, UdiParse, hibc_check_character, parse_udi

GS = "\x1d"


def hibc(data: str) -> str:
    """HIBCC data with its mod-43 check character appended."""
    return data + hibc_check_character(data)


def test_json_shape_is_the_cli_contract() -> None:
    assert list(parse_udi("(01)09506000134352").model_dump()) == [
        "valid",
        "issuer",
        "gtin",
        "lic",
        "product_code",
        "di",
        "lot",
        "serial",
        "expiry",
        "manufactured",
        "quantity",
        "key",
        "errors",
        "warnings",
        "readings",
        "elements",
    ]


# ------------------------------------------------------------------------------- GS1


@pytest.mark.parametrize(
    "scan",
    [
        f"]d201095060001343521725013110L1{GS}21S/1",
        f"]C101095060001343521725013110L1{GS}21S/1",
        f"]Q301095060001343521725013110L1{GS}21S/1",
        f"]e001095060001343521725013110L1{GS}21S/1",
        f"]J101095060001343521725013110L1{GS}21S/1",
        f"{GS}01095060001343521725013110L1{GS}21S/1{GS}",  # FNC1 first, and a stray one last
        "(01)09506000134352(17)250131(10)L1(21)S/1",
        "https://id.gs1.org/01/09506000134352/10/L1/21/S%2F1?17=250131",
        "]Q1https://example.com/01/09506000134352/10/L1/21/S%2F1?17=250131",
    ],
)
def test_gs1_forms_read_the_same(scan: str) -> None:
    parsed = parse_udi(scan)
    assert parsed == UdiParse(
        valid=True,
        issuer="GS1",
        gtin="09506000134352",
        di="09506000134352",
        lot="L1",
        serial="S/1",
        expiry="2025-01-31",
        key="01/09506000134352/21/S%2F1",
        elements=parsed.elements,
    )
    assert parsed.elements == {"01": "09506000134352", "17": "250131", "10": "L1", "21": "S/1"}


@pytest.mark.parametrize(
    ("scan", "key"),
    [
        ("(01)09506000134352(10)L1", "01/09506000134352/10/L1"),
        ("(01)09506000134352", "01/09506000134352"),
        ("]E09506000134352", "01/09506000134352"),
        ("]E496385074", "01/00000096385074"),
        ("]I109506000134352", "01/09506000134352"),
        ("09506000134352", "01/09506000134352"),  # an EAN/ITF scan without identifier
        ("(00)106141412345678908", "00/106141412345678908"),
        ("(414)0614141123452(254)A/1", "414/0614141123452/254/A%2F1"),
        ("(01)09506000134352(17)250131\n(10)L1", "01/09506000134352/10/L1"),  # a split label
        ("(8004)0614141ABC", None),  # a GIAI: valid, but no canonical key form
    ],
)
def test_gs1_keys(scan: str, key: str | None) -> None:
    parsed = parse_udi(scan)
    assert parsed.valid, parsed.errors
    assert parsed.key == key


@pytest.mark.parametrize(
    ("value", "expiry"),
    [
        ("250200", "2025-02-28"),
        ("240200", "2024-02-29"),  # DD 00 is the last day of the month, leap years too
        ("241231", "2024-12-31"),
    ],
)
def test_gs1_dates(value: str, expiry: str) -> None:
    parsed = parse_udi(f"(01)09506000134352(17){value}(11)240115")
    assert (parsed.expiry, parsed.manufactured) == (expiry, "2024-01-15")


@pytest.mark.parametrize(
    ("scan", "error"),
    [
        ("(01)09506000134353", "AI (01): GTIN 09506000134353 has check digit 3, expected 2"),
        ("(00)106141412345678909", "AI (00): SSCC 106141412345678909 has check digit 9, expected 8"),
        ("(414)0614141123453", "AI (414): GLN 0614141123453 has check digit 3, expected 2"),
        ("(01)09506000134352(17)250230", "AI (17) use by or expiry '250230' is not a valid date"),
        ("]d20109506000134352172513001", "AI (17) use by or expiry '251300' is not a valid date"),
        ("(01)09506000134352(21)A(21)B", "AI (21) appears twice with different values: 'A' and 'B'"),
        ("(01)09506000134352(99)é", "GS1 data must be ASCII; found 'é' at position 22"),
        ("]d20109506000134352%", "no GS1 Application Identifier at position 16: '%'"),
        ("]C1010950600013435211ABC", "AI (11) prod date 'ABC' is not a valid date"),
        ("]C10109506000134352" + "10" + "L" * 21, "it is longer than N2+X..20 allows, or the GS (FNC1)"),
        ("(1A)123", "(1A) is not an AI"),
        ("(89)ABC", "(89) is not a GS1 Application Identifier"),
        ("(10)", "AI (10) has an empty value"),
    ],
)
def test_gs1_errors_say_what_is_wrong(scan: str, error: str) -> None:
    parsed = parse_udi(scan)
    assert not parsed.valid
    assert parsed.key is None
    assert any(error in message for message in parsed.errors), parsed.errors


def test_invalid_gs1_still_reports_what_it_read() -> None:
    parsed = parse_udi(f"]d201057135130005391017514{GS}1100000017000000")
    assert not parsed.valid
    assert (parsed.gtin, parsed.lot, parsed.key) == ("05713513000539", "17514", None)


def test_variable_length_values_end_at_gs() -> None:
    # (7007) is N6[N6]: without GS, "211" would pass for a serial "1" after it.
    parsed = parse_udi("]d20109506000134352700721122521" + "1")
    assert not parsed.valid
    assert parsed.errors == [
        "GS1 element string: AI (7007) value '211225' runs on into '211' at position 26: it is longer than "
        "N4+N6[+N6] allows, or the GS (FNC1) that must end a variable-length value is missing"
    ]


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("https://a/01/09506000134352?10=L1", "AI (10) qualifies (01) and belongs in the URI path"),
        ("https://a/01/09506000134352?21=1&21=1", "appears more than once"),
        ("https://a/01/09506000134352?99=", "AI (99) has an empty value"),
        ("https://a/01/09506000134352?89=X", "(89) in the Digital Link query is not a GS1 Application Identifier"),
        ("HtTpS://a/01/09506000134352", "not GS1 data: a Digital Link URI scheme is http or https in one case"),
        ("https:///01/09506000134352", "has no host"),
        ("https://[fe80::1%25lo]/01/09506000134352", "host '[fe80::1%25lo]' contains '%'"),
        ("https://user@a/01/09506000134352", "host 'user@a' contains '@'"),
        ("https://a/gtn/09506000134352", "Expected a primary identifier in the path"),
        ("https://a/01/09506000134352/", "Expected even number of path segments"),
    ],
)
def test_digital_link_rules(uri: str, error: str) -> None:
    parsed = parse_udi(uri)
    assert not parsed.valid
    assert any(error in message for message in parsed.errors), parsed.errors


def test_digital_link_stems_may_look_like_ais() -> None:
    assert parse_udi("https://a/00/faux/00/106141412345678908").key == "00/106141412345678908"
    # (10) may be an attribute when (235), not (22/10/21), qualifies the GTIN
    assert parse_udi("https://a/01/09506000134352/235/TPX?10=L1").valid


def test_withdrawn_digital_link_names_are_read_with_a_warning() -> None:
    parsed = parse_udi("https://a/gtin/09506000134352/lot/L1/ser/S1?17=250100")
    assert parsed.valid
    assert parsed.key == "01/09506000134352/21/S1"
    assert parsed.elements == {"01": "09506000134352", "10": "L1", "21": "S1", "17": "250100"}
    assert parsed.warnings == [
        f"Digital Link path name {name!r} was withdrawn by GS1 (Digital Link 1.1); read as AI ({ai})"
        for name, ai in (("gtin", "01"), ("lot", "10"), ("ser", "21"))
    ]
    # Only the names of AIs: a value that reads like one stays a value, a stem stays a stem.
    stemmed = parse_udi("https://a/lot/01/09506000134352/10/lot")
    assert (stemmed.lot, stemmed.warnings) == ("lot", [])
    assert parse_udi("https://a/sscc/106141412345678908").key == "00/106141412345678908"
    assert parse_udi("https://a/01/09506000134352").warnings == []


@pytest.mark.parametrize(
    "scan", ["]Q1TESTING", "]d1^TESTING", "]J0TESTING|^99XYZ", "]Q1", "]d1", "]Q1HtTps://a/01/09506000134352"]
)
def test_plain_data_is_refused_as_not_gs1_data(scan: str) -> None:
    parsed = parse_udi(scan)
    assert not parsed.valid
    assert parsed.errors and all(error.startswith(f"{NOT_GS1_DATA}: ") for error in parsed.errors)


def test_symbology_identifiers_say_what_data_is() -> None:
    assert "]d1 marks data that is not GS1" in parse_udi("]d10109506000134352").errors[0]
    assert parse_udi("]E0950600013435").errors == ["]E0 carries 13 digits, got '950600013435'"]
    assert parse_udi("]X9abc").valid is False
    assert parse_udi("]").errors == ["symbology identifier ']' is incomplete"]


# ------------------------------------------------------------------------------ HIBCC


def test_hibc_check_character() -> None:
    # ANSI/HIBC 2.6's own example, and the mod-43 table's special characters
    assert hibc_check_character("+A99912345/$$52001510X3/16D20111212/S77DEFG45") == "7"
    assert hibc_check_character("+A123BJC5D6E71") == "G"
    assert hibc_check_character("$") == "$"  # 39
    assert hibc_check_character("-.") == "U"  # (36 + 37) % 43 = 30
    with pytest.raises(InvalidKeyError, match="not in the HIBCC character set"):
        hibc_check_character("+a")


def test_hibc_primary() -> None:
    parsed = parse_udi(hibc("+A123BJC5D6E71"))
    assert (parsed.lic, parsed.product_code, parsed.di, parsed.key) == (
        "A123",
        "BJC5D6E7",
        "A123BJC5D6E71",
        "hibc/A123BJC5D6E71",
    )
    assert parsed.elements["unit_of_measure"] == "1"
    assert parse_udi("*" + hibc("+A123BJC5D6E71") + "*").key == "hibc/A123BJC5D6E71"  # Code 39 caption


@pytest.mark.parametrize(
    ("secondary", "expiry", "lot", "quantity"),
    [
        ("$$0225LOT1", "2025-02-28", "LOT1", None),  # MMYY: month end
        ("$$1224LOT1", "2024-12-31", "LOT1", None),
        ("$$2022825LOT1", "2025-02-28", "LOT1", None),  # MMDDYY
        ("$$3250228LOT1", "2025-02-28", "LOT1", None),  # YYMMDD
        ("$$425022813LOT1", "2025-02-28", "LOT1", None),  # YYMMDDHH
        ("$$525059LOT1", "2025-02-28", "LOT1", None),  # YYJJJ
        ("$$524366LOT1", "2024-12-31", "LOT1", None),  # day 366 of a leap year
        ("$$62505913LOT1", "2025-02-28", "LOT1", None),  # YYJJJHH
        ("$$7LOT1", None, "LOT1", None),  # no date
        ("$$8053250228LOT1", "2025-02-28", "LOT1", 5),  # 2-digit quantity, then a date
        ("$$9001007LOT1", None, "LOT1", 100),  # 5-digit quantity, no date
        ("$LOT1", None, "LOT1", None),
        ("$LOT1/14D20250228/Q12", "2025-02-28", "LOT1", 12),
        ("25059LOT1", "2025-02-28", "LOT1", None),  # the older plain YYJJJ form
    ],
)
def test_hibc_secondary_forms(secondary: str, expiry: str | None, lot: str, quantity: int | None) -> None:
    parsed = parse_udi(hibc(f"+A123BJC5D6E71/{secondary}"))
    assert parsed.valid, parsed.errors
    assert (parsed.expiry, parsed.lot, parsed.serial, parsed.quantity) == (expiry, lot, None, quantity)
    assert parsed.key == "hibc/A123BJC5D6E71/10/LOT1"


@pytest.mark.parametrize(
    "secondary",
    ["$+SN42", "$$+7SN42", "$$+3250228SN42", "$$+9000013250228SN42", "$LOT1/SSN42", "$$3250228LOT1/SSN42/16D20240101"],
)
def test_hibc_serials_win(secondary: str) -> None:
    parsed = parse_udi(hibc(f"+A123BJC5D6E71/{secondary}"))
    assert parsed.valid, parsed.errors
    assert parsed.serial == "SN42"
    assert parsed.key == "hibc/A123BJC5D6E71/21/SN42"


def test_hibc_odd_lots_are_percent_encoded() -> None:
    parsed = parse_udi(hibc("+A123BJC5D6E71/$L 1+$%"))
    assert parsed.lot == "L 1+$%"
    assert parsed.key == "hibc/A123BJC5D6E71/10/L%201%2B%24%25"


def test_hibc_two_line_form_checks_the_link() -> None:
    primary = hibc("+A123BJC5D6E71")
    link = primary[-1]
    secondary = hibc(f"+$$3250228LOT1{link}")
    parsed = parse_udi(f"{primary}\n{secondary}")
    assert parsed.valid, parsed.errors
    assert (parsed.key, parsed.expiry) == ("hibc/A123BJC5D6E71/10/LOT1", "2025-02-28")
    assert parse_udi(f"{secondary}\r\n{primary}").key == parsed.key  # either order

    broken = hibc("+$$3250228LOT1X" if link != "X" else "+$$3250228LOT1Y")
    parsed = parse_udi(f"{primary}\n{broken}")
    assert not parsed.valid
    assert parsed.errors == [f"HIBCC link character {broken[-2]!r} does not match the primary check character {link!r}"]


def test_hibc_secondary_alone_has_no_key() -> None:
    parsed = parse_udi("+$$02231162074ZA")  # from a real label (brixion/bardecoder tests)
    assert parsed.valid
    assert (parsed.lot, parsed.expiry, parsed.key) == ("1162074", "2023-02-28", None)
    assert parsed.elements["link_character"] == "Z"


@pytest.mark.parametrize(
    ("scan", "error"),
    [
        ("+A123BJC5D6E71Z", "HIBCC check character is 'Z', expected 'G'"),
        ("+a123BJC5D6E71G", "'a' at position 1 is not in the HIBCC character set"),
        (hibc("+1234BJC5D6E71"), "HIBCC secondary data"),
        (hibc("+A12"), "HIBCC primary data 'A12' must be"),
        (hibc("+A123BJC5D6E7X"), "unit-of-measure digit"),
        (hibc("+A123BJC5D6E71/$$3251328LOT1"), "HIBCC date 251328 (YYMMDD) is not a valid date"),
        (hibc("+A123BJC5D6E71/$$525366LOT1"), "HIBCC date 25366 (YYJJJ) is not a valid date"),
        (hibc("+A123BJC5D6E71/$$8LOT1"), "HIBCC quantity flag 8 must be followed by 2 digits"),
        (hibc("+A123BJC5D6E71/$$A1"), "HIBCC date flag 'A' is not one of"),
        (hibc("+A123BJC5D6E71/$L1/X9"), "unknown HIBCC supplemental data field '/X9'"),
        (hibc("+A123BJC5D6E71/$+S1/SS2"), "HIBCC serial given twice: 'S1' and 'S2'"),
    ],
)
def test_hibc_errors_say_what_is_wrong(scan: str, error: str) -> None:
    parsed = parse_udi(scan)
    assert not parsed.valid
    assert parsed.key is None
    assert any(error in message for message in parsed.errors), parsed.errors


# --------------------------------------------------------------------------------- MA

MA_DI = "MA.156.M0.100204.13351764"


def test_ma_full() -> None:
    parsed = parse_udi(f"{MA_DI}.L2020A.S0042.M201231.E20271231.D77.C9")
    assert parsed.valid
    assert (parsed.issuer, parsed.di, parsed.lot, parsed.serial) == ("MA", MA_DI, "2020A", "0042")
    assert (parsed.manufactured, parsed.expiry) == ("2020-12-31", "2027-12-31")
    assert parsed.key == f"ma/{MA_DI}/21/0042"
    assert parsed.elements["sterilisation_lot"] == "77"
    assert parsed.elements["note"].startswith("unverified check")
    assert (parsed.elements["registrant"], parsed.elements["packaging_level"], parsed.elements["di_check"]) == (
        "100204",
        "1",
        "4",
    )


def test_ma_keys_and_validity_dates() -> None:
    assert parse_udi(f"{MA_DI}.L2020").key == f"ma/{MA_DI}/10/2020"
    assert parse_udi(MA_DI).key == f"ma/{MA_DI}"
    assert parse_udi(f"{MA_DI}.V271231").expiry == "2027-12-31"


@pytest.mark.parametrize(
    ("scan", "error"),
    [
        ("MA.156.M1.100204.13351764", "MA industry 'M1' must be the industry code M0"),
        ("MA.156.M0.10020.13351764", "MA registrant '10020' must be a 6-character registrant code"),
        ("MA.156.M0.100204.1335176", "MA product '1335176' must be a product code of 8 or more letters and digits"),
        ("MA.156.M0", "an MA code starts MA.{country}.M0"),
        (f"{MA_DI}.X1", "unknown MA data separator '.X'"),
        (f"{MA_DI}.M2012", "MA date .M2012 must be 6 (YYMMDD) or 8 (YYYYMMDD) digits"),
        (f"{MA_DI}.E20271331", "MA date .E20271331 is not a valid date"),
        (f"{MA_DI}.S1.S2", "MA field .S appears twice"),
        (f"{MA_DI}.L", "MA field .L must be letters and digits"),
    ],
)
def test_ma_errors_say_what_is_wrong(scan: str, error: str) -> None:
    parsed = parse_udi(scan)
    assert not parsed.valid
    assert any(error in message for message in parsed.errors), parsed.errors


#: Public MA codes and the fields published with them. The first is from the unit test of
#: an open-source JavaScript MA barcode parser on GitHub (``BarcodeParser`` ``getMACodeObj``,
#: found by code search for "MA.156.M0"), which asserts serial x00008, production date
#: 2022-01-17, lot 20220117, sterilisation lot 20220118, expiry 2022-01-30 and validity
#: 2022-01-17; the other two are sample codes in the comments of public C# label-printing
#: code (a 12-character product code; lower case letters), whose fields follow from the
#: separators. None of them comes with a check-character algorithm.
PUBLIC_MA_SAMPLES = [
    (
        "MA.156.M0.100761.21234561.Sx00008.M220117.L20220117.D20220118.E220130.V220117.C3",
        {
            "di": "MA.156.M0.100761.21234561",
            "serial": "x00008",
            "manufactured": "2022-01-17",
            "lot": "20220117",
            "expiry": "2022-01-30",
        },
        {"sterilisation_lot": "20220118", "valid_until": "220117", "item": "123456", "check": "3"},
    ),
    (
        "MA.156.M0.100350.01004YA10017.SLMSAGAAAC.M210628.LAY21062803.E220628.V220627.C3",
        {
            "di": "MA.156.M0.100350.01004YA10017",
            "serial": "LMSAGAAAC",
            "manufactured": "2021-06-28",
            "lot": "AY21062803",
            "expiry": "2022-06-28",
        },
        {"registrant": "100350", "packaging_level": "0", "valid_until": "220627"},
    ),
    (
        "MA.156.M0.100011.2cscp023.Ste002.M200206.L343432.D555555.E200228.V200307.C9",
        {
            "di": "MA.156.M0.100011.2cscp023",
            "serial": "te002",
            "manufactured": "2020-02-06",
            "lot": "343432",
            "expiry": "2020-02-28",
        },
        {"sterilisation_lot": "555555", "check": "9"},
    ),
]


@pytest.mark.parametrize(("code", "fields", "elements"), PUBLIC_MA_SAMPLES, ids=lambda v: str(v)[:30])
def test_public_ma_samples_parse_to_their_published_fields(
    code: str, fields: dict[str, str], elements: dict[str, str]
) -> None:
    parsed = parse_udi(code)
    assert parsed.valid and parsed.issuer == "MA", parsed.errors
    assert {name: getattr(parsed, name) for name in fields} == fields
    assert {name: parsed.elements[name] for name in elements} == elements
    assert parsed.elements["check_status"] == "unverified"  # the algorithm is not public
    assert parsed.key == f"ma/{fields['di'].upper()}/21/{fields['serial']}"


def test_ma_xml_form_and_url_wrapped_codes() -> None:
    plain = parse_udi(f"{MA_DI}.S0042.L2020A")
    as_xml = parse_udi(f'<UDI IAC="MA">{MA_DI}.S0042.L2020A</UDI>')
    split_xml = parse_udi(f'<UDI IAC="MA">\n  <DI>{MA_DI}</DI>\n  <PI>.S0042.L2020A</PI>\n</UDI>')
    assert as_xml == split_xml == plain and plain.key == f"ma/{MA_DI}/21/0042"
    wrapped = parse_udi(f"https://udi.example.cn/scan?code={MA_DI}.S0042.L2020A")
    assert (wrapped.issuer, wrapped.key) == ("MA", plain.key)
    assert parse_udi(f"]Q1https://example.cn/{MA_DI}.L7").key == f"ma/{MA_DI}/10/7"
    assert parse_udi(f'<UDI IAC="GS1">{MA_DI}</UDI>').errors == ["<UDI IAC='GS1'> holds a MA code"]
    assert "must be one of MA, GS1, HIBCC" in parse_udi(f'<UDI IAC="XX">{MA_DI}</UDI>').errors[0]
    assert "not well-formed" in parse_udi("<UDI IAC='MA'>").errors[0]
    assert canonical_key(f"ma/{MA_DI.lower().replace('ma.', 'MA.', 1)}/21/S1") == f"ma/{MA_DI}/21/S1"


# ---------------------------------------------------- GS1 data missing its separators

GTIN_CN = "06901234567892"


def test_a_lot_run_into_a_date_with_a_unique_reading_is_taken_with_a_warning() -> None:
    # Lot 16 + (17) 8 = a 24-character "lot", over the 20 GS1 allows: only one reading is left.
    parsed = parse_udi(f"01{GTIN_CN}10ABCDEFGHIJKLMNOP1727010121S1")
    assert parsed.valid and parsed.key == f"01/{GTIN_CN}/21/S1"
    assert (parsed.lot, parsed.expiry) == ("ABCDEFGHIJKLMNOP", "2027-01-01")
    assert parsed.readings == [{"01": GTIN_CN, "10": "ABCDEFGHIJKLMNOP", "17": "270101", "21": "S1"}]
    assert "no GS (FNC1) before it" in parsed.warnings[0]


def test_a_lot_run_into_dates_with_several_readings_is_refused_listing_them() -> None:
    parsed = parse_udi(f"01{GTIN_CN}10ABCDEFGHIJKL1125010117260101")
    assert not parsed.valid and parsed.key is None
    assert parsed.errors[0].startswith("ambiguous GS1 data")
    assert parsed.readings == [
        {"01": GTIN_CN, "10": "ABCDEFGHIJKL", "11": "250101", "17": "260101"},
        {"01": GTIN_CN, "10": "ABCDEFGHIJKL11250101", "17": "260101"},
    ]


def test_a_lot_that_may_end_before_a_date_is_ambiguous_even_when_gs1_reading_is_valid() -> None:
    # Lot "012345", expiry and serial printed with no GS; GS1's own reading is one long lot.
    parsed = parse_udi(f"01{GTIN_CN}100123451727010121S1")
    assert not parsed.valid and parsed.key is None and parsed.errors[0].startswith("ambiguous GS1 data")
    assert parsed.readings == [
        {"01": GTIN_CN, "10": "0123451727010121S1"},
        {"01": GTIN_CN, "10": "012345", "17": "270101", "21": "S1"},
    ]
    # Impossible dates are no reading: 17271301 has month 13.
    unique = parse_udi(f"01{GTIN_CN}10ABC12317271301")
    assert unique.valid and unique.lot == "ABC12317271301" and not unique.warnings and not unique.readings
    # With a GS the encoder said where the lot ends.
    separated = parse_udi(f"]d201{GTIN_CN}10012345\x1d1727010121S1")
    assert separated.valid and separated.lot == "012345" and separated.warnings == []


def test_gs1_composite_symbols_are_read_as_one_message() -> None:
    parsed = parse_udi("]E00416000336108|]e099COMPOSITE\x1d98XYZ")
    assert parsed.valid and parsed.gtin == "00416000336108"
    assert parsed.elements == {"01": "00416000336108", "99": "COMPOSITE", "98": "XYZ"}


# ------------------------------------------------------------------ refused formats


@pytest.mark.parametrize("scan", ["AHM1234567890", "ahm1234", "]d1AHM1234", "(DI)AHM123(BN)LOT1"])
def test_ahm_is_recognised_and_refused(scan: str) -> None:
    assert parse_udi(scan) == UdiParse(valid=False, errors=[AHM_UNSUPPORTED])


def test_iccbba_is_refused() -> None:
    parsed = parse_udi("=/A9999XYZ100T0944")
    assert (parsed.valid, parsed.issuer) == (False, None)
    assert parsed.errors == ["ICCBBA ISBT 128 codes are not supported"]


@pytest.mark.parametrize(
    ("scan", "error"),
    [
        ("", "empty input"),
        ("hello", "not a recognised UDI"),
        ("(01)09506000134352\n+A99912345/$$52001510X3", "one barcode per input, got 2 lines"),
    ],
)
def test_unrecognised_input(scan: str, error: str) -> None:
    parsed = parse_udi(scan)
    assert not parsed.valid
    assert error in parsed.errors[0]


# ------------------------------------------------------------------------ robustness

_STARTS = st.sampled_from(
    (
        *("", "]d2", "]C1", "]Q3", "]Q1", "]E0", "]e0", "(01)", "(", "01", "https://id.gs1.org/01/", "http://a/"),
        *("+", "*+", "+A123BJC5D6E71/", "+$$", "+$$8", "+$$9", "+$+", "MA.", f"{MA_DI}.", "AHM", "=", GS),
    )
)
_TAILS = st.text(alphabet="0123456789ABCDEFLMSVZabc()[]/$+%.-_ *?=&#\x1d\n\r\\é", max_size=50)


@given(st.one_of(st.text(), st.builds(str.__add__, _STARTS, _TAILS)))
@example("https://[fe80::1%25lo]/01/09506000134352")
@example("]Y")
@example("+$")
@example(f"{MA_DI}.")
def test_parse_udi_never_raises(text: str) -> None:
    parsed = parse_udi(text)
    assert parsed.valid or parsed.errors
    if not parsed.valid:
        assert parsed.key is None


# -- bare SSCC: 18 digits without their AI, as a WMS export or a typed pallet number gives them


def test_bare_18_digits_with_a_valid_check_digit_are_an_sscc_with_a_warning() -> None:
    parsed = parse_udi("157035381410375177")
    assert parsed.valid and parsed.issuer == "GS1"
    assert parsed.elements == {"00": "157035381410375177"}
    assert parsed.key == canonical_key("(00)157035381410375177") == "00/157035381410375177"
    assert parsed.warnings == [BARE_SSCC_WARNING]
    assert canonical_key("157035381410375177") == parsed.key  # wherever a key is accepted


def test_bare_18_digits_with_a_wrong_check_digit_are_refused_saying_so() -> None:
    parsed = parse_udi("157035381410375178")
    assert not parsed.valid and parsed.key is None
    assert parsed.errors == [
        "18 bare digits are read as an SSCC without its AI (00), and "
        "SSCC 157035381410375178 has check digit 8, expected 7"
    ]
    with pytest.raises(InvalidKeyError, match="has check digit 8, expected 7"):
        canonical_key("157035381410375178")


@pytest.mark.parametrize("data", ["]C1157035381410375177", "15703538141037517", "1570353814103751770"])
def test_only_18_digits_without_a_symbology_identifier_are_taken_for_an_sscc(data: str) -> None:
    parsed = parse_udi(data)  # ]C1 announces element strings; 17 or 19 digits are no SSCC
    assert not parsed.valid and "00" not in parsed.elements and not parsed.warnings


def test_18_digits_that_are_also_a_valid_element_string_are_ambiguous() -> None:
    # (253) GDTI 9506000134352 with serial 00; as 18 digits, its mod-10 check digit holds too.
    data = "253950600013435200"
    assert parse_udi(f"]C1{data}").elements == {"253": "950600013435200"}
    parsed = parse_udi(data)
    assert not parsed.valid and parsed.key is None
    assert parsed.readings == [{"00": data}, {"253": "950600013435200"}]
    assert parsed.errors[0].startswith("ambiguous GS1 data: 18 bare digits")
