"""Canonical keys: every accepted form of one thing meets on one key."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from schema.errors import InvalidKeyError, UnsupportedFormatError
from schema.identifiers import (
    canonical_key,
    decode_key_value,
    digital_link,
    encode_key_value,
    gs1_check_digit,
    key_kind,
    validate_gs1_check_digit,
)
from schema.kinds import KEY_PREFIXES, NodeKind
from schema.udi import hibc_check_character

GS = "\x1d"

# GS1's own example: company prefix 0614141, item reference 12345, indicator 8.
UNIT = "01/80614141123458/21/6789"
UNIT_FORMS = [
    UNIT,
    "urn:epc:id:sgtin:0614141.812345.6789",
    "URN:EPC:ID:SGTIN:0614141.812345.6789",
    "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
    "(01)80614141123458(21)6789",
    "(01) 80614141123458 (17) 250100 (10) L1 (21) 6789",  # serial wins over lot
    "0180614141123458216789",
    f"]C10180614141123458{GS}216789",
    f"]d2018061414112345810L1{GS}216789",
    "]Q30180614141123458216789",
    "]e0018061414112345817250100216789",
    "https://id.gs1.org/01/80614141123458/21/6789",
    "https://example.com/some/stem/01/80614141123458/10/L1/21/6789?17=250100&x=y#top",
    "HTTPS://EXAMPLE.COM/01/80614141123458/21/6789",
    "]Q1https://brand.example/01/80614141123458/21/6789",
]

LOT = "01/80614141123458/10/L1"
LOT_FORMS = [
    LOT,
    "urn:epc:class:lgtin:0614141.812345.L1",
    "(01)80614141123458(10)L1(17)250100",
    "https://id.gs1.org/01/80614141123458/10/L1?17=250100",
]

ITEM = "01/80614141123458"
ITEM_FORMS = [
    ITEM,
    "urn:epc:idpat:sgtin:0614141.812345.*",
    "(01)80614141123458",
    "https://id.gs1.org/01/80614141123458",
]


@pytest.mark.parametrize(
    ("forms", "key"),
    [
        (UNIT_FORMS, UNIT),
        (LOT_FORMS, LOT),
        (ITEM_FORMS, ITEM),
        (
            [
                "00/106141412345678908",
                "urn:epc:id:sscc:0614141.1234567890",
                "urn:epc:tag:sscc-96:0.0614141.1234567890",
                "(00)106141412345678908",
                "]C100106141412345678908",
                "https://id.gs1.org/00/106141412345678908",
            ],
            "00/106141412345678908",
        ),
        (
            ["414/0614141123452", "414/0614141123452/254/0", "urn:epc:id:sgln:0614141.12345.0", "(414)0614141123452"],
            "414/0614141123452",
        ),
        (
            [
                "414/0614141123452/254/5678",
                "urn:epc:id:sgln:0614141.12345.5678",
                "(414)0614141123452(254)5678",
                "https://id.gs1.org/414/0614141123452/254/5678",
            ],
            "414/0614141123452/254/5678",
        ),
        (["417/0614141123452", "urn:epc:id:pgln:0614141.12345", "(417)0614141123452"], "417/0614141123452"),
    ],
    ids=["unit", "lot", "item", "sscc", "gln", "gln-extension", "party"],
)
def test_every_form_of_a_thing_gives_one_key(forms: list[str], key: str) -> None:
    assert {form: canonical_key(form) for form in forms} == dict.fromkeys(forms, key)


def test_gtin_8_12_13_are_padded_to_14() -> None:
    assert canonical_key("01/96385074") == "01/00000096385074"
    assert canonical_key("(01)00614141123452") == canonical_key("01/614141123452") == "01/00614141123452"
    assert canonical_key("https://id.gs1.org/01/9506000134352/21/X") == "01/09506000134352/21/X"
    assert canonical_key("]E09506000134352") == "01/09506000134352"


def test_hibcc_and_ma_barcodes_meet_their_keys() -> None:
    primary = "+A99912345"
    concatenated = f"{primary}/$$52001510X3/S77DEFG45"
    assert canonical_key(concatenated + hibc_check_character(concatenated)) == "hibc/A99912345/21/77DEFG45"
    assert canonical_key("hibc/a99912345/21/77DEFG45") == "hibc/A99912345/21/77DEFG45"
    assert canonical_key(primary + hibc_check_character(primary)) == "hibc/A99912345"
    ma = "MA.156.M0.100204.13351764"
    assert canonical_key(f"{ma}.L2020.S0042.E20271231.C7") == f"ma/{ma}/21/0042"
    assert canonical_key(f"{ma}.L2020") == canonical_key(f"ma/{ma}/10/2020") == f"ma/{ma}/10/2020"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("supplier:ACME-01", "supplier:ACME-01"),
        ("Supplier: ACME-01 ", "supplier:ACME-01"),
        ("wo:WO-2024-0153", "wo:WO-2024-0153"),
        ("equipment:EXT:07", "equipment:EXT:07"),  # the natural key may hold a colon
    ],
)
def test_kind_keys_are_normalised(text: str, key: str) -> None:
    assert canonical_key(text) == key


def _hri_escaped(value: str) -> str:
    """In bracketed form a '(' inside a value is written '\\(' (GS1 syntax engine)."""
    return value.replace("(", "\\(")


@pytest.mark.parametrize(
    "serial",
    ["A/B", "50%", "a+b", "!\"&'()*,:;<=>?", "-._", "LOT/2024+A"],
)
def test_odd_serials_survive_every_form(serial: str) -> None:
    key = f"01/80614141123458/21/{encode_key_value(serial)}"
    epc = f"urn:epc:id:sgtin:0614141.812345.{encode_key_value(serial)}"
    assert canonical_key(f"(01)80614141123458(21){_hri_escaped(serial)}") == key
    assert canonical_key(f"]d2018061414112345821{serial}") == key
    assert canonical_key(f"https://id.gs1.org/{key}") == key
    assert canonical_key(epc) == key
    assert canonical_key(key) == key
    assert decode_key_value(key.rsplit("/", 1)[1]) == serial


def test_percent_encoding_is_canonical() -> None:
    assert encode_key_value("A/B+C 1%") == "A%2FB%2BC%201%25"
    assert canonical_key("01/80614141123458/21/A%2fB") == "01/80614141123458/21/A%2FB"
    assert canonical_key("01/80614141123458/21/%41BC") == "01/80614141123458/21/ABC"  # needless escape
    with pytest.raises(InvalidKeyError, match="%25"):
        decode_key_value("50%")


# The GS1 character set 82 that serials and lots are written in.
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@given(st.text(alphabet=CSET82, min_size=1, max_size=20))
def test_any_gs1_serial_gives_the_same_key_in_every_form(serial: str) -> None:
    key = canonical_key(f"]C1018061414112345821{serial}")
    assert canonical_key(f"(01)80614141123458(21){_hri_escaped(serial)}") == key
    assert decode_key_value(key.split("/")[3]) == serial
    assert canonical_key(key) == key
    assert canonical_key(f"https://id.gs1.org/{key}") == key
    assert canonical_key(f"urn:epc:id:sgtin:0614141.812345.{encode_key_value(serial)}") == key


@given(st.text())
def test_encoding_round_trips(value: str) -> None:
    assert decode_key_value(encode_key_value(value)) == value


# ------------------------------------------------------------------ check digits


def test_gs1_check_digit() -> None:
    assert gs1_check_digit("950600013435") == "2"
    assert gs1_check_digit("8061414112345") == "8"
    assert gs1_check_digit("10614141234567890") == "8"  # SSCC payload
    with pytest.raises(InvalidKeyError):
        gs1_check_digit("12a")
    with pytest.raises(InvalidKeyError):
        gs1_check_digit("١٢٣")  # Arabic-Indic digits are digits to Python, not to GS1


@pytest.mark.parametrize(
    ("number", "what", "message"),
    [
        ("09506000134353", "GTIN", "GTIN 09506000134353 has check digit 3, expected 2"),
        ("106141412345678909", "SSCC", "SSCC 106141412345678909 has check digit 9, expected 8"),
        ("0614141123453", "GLN", "GLN 0614141123453 has check digit 3, expected 2"),
        ("123", "GTIN", "GTIN 123 has 3 digits, expected 8 or 12 or 13 or 14"),
        ("12345678901X", "GTIN", "GTIN '12345678901X' must contain only the digits 0-9"),
    ],
)
def test_check_digit_failures_say_what_is_wrong(number: str, what: str, message: str) -> None:
    with pytest.raises(InvalidKeyError) as failure:
        validate_gs1_check_digit(number, what=what)
    assert str(failure.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("01/09506000134353", "GTIN 09506000134353 has check digit 3, expected 2"),
        ("(01)09506000134353(21)1", "GTIN 09506000134353 has check digit 3, expected 2"),
        ("00/106141412345678909", "SSCC 106141412345678909 has check digit 9, expected 8"),
        ("(414)0614141123453", "GLN 0614141123453 has check digit 3, expected 2"),
        ("urn:epc:id:sgtin:0614141.81234.6789", "12 digits together, expected 13"),
        ("urn:epc:id:sgtin:0614141.812345", "must have 3 '.'-separated fields"),
        ("urn:epc:id:sgtin:061.81234567890.1", "company prefix 061 has 3 digits, expected 6 to 12"),
        ("urn:epc:idpat:sgtin:0614141.*.*", "pattern matching many things"),
        ("urn:epc:id:sgtin:0614141.812345.a%2", "does not start a %XX escape"),
        ("foo:bar", "unknown key prefix 'foo' (expected one of supplier, part, lot,"),
        ("supplier:   ", "empty natural key"),
        ("09506000134352", "bare number 09506000134352 is ambiguous"),
        ("", "empty key"),
        ("(10)L1", "AI (10) needs (01) or (02)"),
        ("01/80614141123458/21/6789/extra", "Expected even number of path segments"),
        ("hibc/A99912345/99/X", "is not a hibc key"),
        ("ma/MA.156.M0.10020.13351764", "MA device identifier"),
        ("(01)80614141123458(17)251301", "is not a valid date"),
    ],
)
def test_invalid_keys_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        canonical_key(text)


@pytest.mark.parametrize(
    "text",
    [
        "AHM0123456789",
        "urn:epc:id:giai:0614141.12345",
        "urn:epc:class:lsscc:1.2.3",
        "(8004)0614141ABC",
        "(01)80614141123458(235)TPX1",
    ],
)
def test_recognised_forms_without_a_key_are_unsupported(text: str) -> None:
    with pytest.raises(UnsupportedFormatError):
        canonical_key(text)


def test_ahm_says_why() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"AHM codes are not supported yet \(the format is not public\)"):
        canonical_key("AHM0123456789")


# ----------------------------------------------------------------- reading keys back


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (UNIT, NodeKind.DEVICE),
        (LOT, NodeKind.PRODUCT_LOT),
        (ITEM, NodeKind.PART),
        ("00/106141412345678908", NodeKind.CONTAINER),
        ("414/0614141123452", NodeKind.CONSIGNEE),
        ("414/0614141123452/254/5678", NodeKind.CONSIGNEE),
        ("417/0614141123452", NodeKind.CONSIGNEE),
        ("hibc/A99912345/21/X", NodeKind.DEVICE),
        ("hibc/A99912345/10/X", NodeKind.PRODUCT_LOT),
        ("ma/MA.156.M0.100204.13351764", NodeKind.PART),
        ("wo:WO-1", NodeKind.WORK_ORDER),
        ("nonsense", None),
        ("bogus:1", None),
        ("01/80614141123458/22/X", None),
    ],
)
def test_key_kind(key: str, kind: NodeKind | None) -> None:
    assert key_kind(key) == kind


def test_every_kind_prefix_implies_its_kind() -> None:
    for prefix, kind in KEY_PREFIXES.items():
        assert key_kind(canonical_key(f"{prefix}:X-1")) == kind


def test_digital_link_is_the_key_on_a_resolver() -> None:
    assert digital_link(UNIT) == f"https://id.gs1.org/{UNIT}"
    assert digital_link("urn:epc:id:sgln:0614141.12345.5678", base="https://example.com/") == (
        "https://example.com/414/0614141123452/254/5678"
    )
    assert digital_link("(01)80614141123458(21)A/B") == "https://id.gs1.org/01/80614141123458/21/A%2FB"
    assert digital_link("supplier:ACME") is None
    assert digital_link("hibc/A99912345") is None
    with pytest.raises(InvalidKeyError):
        digital_link(UNIT, base="ftp://example.com")


@given(st.sampled_from(UNIT_FORMS + LOT_FORMS + ITEM_FORMS))
def test_digital_link_round_trips(form: str) -> None:
    link = digital_link(form)
    assert link is not None
    assert canonical_key(link) == canonical_key(form)


# ------------------------------------------------------------------------ robustness

_PREFIXES = st.sampled_from(
    (
        *(
            "",
            "(01)",
            "01/",
            "00/",
            "414/",
            "hibc/",
            "ma/",
            "urn:epc:id:sgtin:",
            "urn:epc:idpat:sgtin:",
            "urn:epc:tag:",
        ),
        *("https://id.gs1.org/01/", "]d2", "]C1", "]Q1", "]E0", "+", "*+", "MA.156.M0.", "supplier:", "AHM"),
    )
)
_PIECES = st.text(alphabet="0123456789()./%*+$:-_ ]dCQeEAMSLVDxyz\x1d\n", max_size=40)


@given(st.one_of(st.text(), st.builds(str.__add__, _PREFIXES, _PIECES)))
@example("urn:epc:id:sgtin:0614141.812345.%E9")
@example("]")
@example("https://[fe80::1/01/1")
def test_canonical_key_raises_only_domain_errors(text: str) -> None:
    try:
        key = canonical_key(text)
    except (InvalidKeyError, UnsupportedFormatError):
        return
    assert canonical_key(key) == key  # whatever is accepted is a fixed point
