"""Acceptance: our barcode parsing against public test vectors written by others.

The vectors (see ``shared/data/SOURCES.md``) come from three projects that test their
own APIs, so each vector is translated into a question about ours (``parse_udi``,
``canonical_key``, ``digital_link``, ``gs1_check_digit``) and the answer compared with
what the vector expects. Where the vector and we say the same thing in different words,
the equivalence is checked explicitly: the engine's valid *symbol* of plain, non-GS1 data
agrees with our refusal only when every error gives that reason (``plain_data_verdict``).
Besides agreement there are two outcomes, both explained here:

- **not comparable**: the vector exercises an API TraceGraph does not have (rendering
  GTIN-13, retail price codes, biip's objects, custom separators); the ``*_verdict``
  functions raise :class:`NotComparable` saying which;
- **known exception**: a disagreement listed in ``KNOWN_EXCEPTIONS`` by line, with why:
  *we differ* (we read the data differently on purpose, where a standard such as GS1's
  key definitions or ANSI/HIBC 2.6 is on our side, or an ambiguity must be reported) or
  *vector fault* (no reading of the data gives what the vector expects).

The GS1 syntax engine's vectors run with the engine's settings (``settings_in_effect``,
over the engine's defaults), passed to ``parse_udi`` and ``digital_link`` as the keyword
options of the same names (``ENGINE_DEFAULTS``).

Agreement over the remaining vectors must be at least 99% per file, and pooled over the
three files it must be at least 99% even counting the known exceptions as disagreements
(678 of 684 comparable vectors, 99.1%). A disagreement that is not listed, or a listed
one that now agrees, fails the test, so the list stays true.
The shared data lives beside the checkout; set TRACEGRAPH_SHARED_DATA to point elsewhere.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_messages import GS1Message

from schema.errors import InvalidKeyError, UnsupportedFormatError
from schema.identifiers import canonical_key, digital_link, gs1_check_digit
from schema.udi import NOT_GS1_DATA, REQUISITE_MISSING, UdiParse, parse_udi

Row = dict[str, Any]


def _shared_data() -> Path:
    override = os.environ.get("TRACEGRAPH_SHARED_DATA")
    if override:
        return Path(override)
    # The checkout is <root>/main; shared data sits beside it in <root>/shared/data.
    return Path(__file__).resolve().parents[3] / "shared" / "data"


BARCODES = _shared_data() / "barcodes"
BIIP = "biip_vectors.jsonl"
ENGINE = "gs1_syntax_engine_vectors.jsonl"
BRIXION = "brixion_bardecoder_hibc_gs1_vectors.jsonl"

pytestmark = pytest.mark.skipif(
    not BARCODES.is_dir(),
    reason=f"shared barcode vectors not found at {BARCODES} "
    "(set TRACEGRAPH_SHARED_DATA to the folder holding barcodes/)",
)


@dataclass(frozen=True)
class Verdict:
    agree: bool
    detail: str


class NotComparable(Exception):
    """The vector exercises something TraceGraph does not offer; the message says what."""


GS = "\x1d"
_REFERENCE_CONFIG = ParseConfig(gs1_element_strings_verify_date=False)


def gs1_reference(element_string: str, unknown_ais: frozenset[str] = frozenset()) -> dict[str, str] | None:
    """AI -> value of an element string in the GS1 engine's ``^``-for-FNC1 notation,
    read by biip directly: the reference our reading is compared with. An AI GS1 does not
    define, which biip cannot read, is read only if the vector's input names it
    (``unknown_ais``; its value runs to the next FNC1). Else None, which nothing agrees with."""
    data = element_string.lstrip("^").replace("^", GS)
    try:
        message = GS1Message.parse(data, config=_REFERENCE_CONFIG)
    except ParseError:
        if not unknown_ais:
            return None
        reference: dict[str, str] = {}
        for segment in element_string.lstrip("^").split("^"):
            ai = next((ai for ai in unknown_ais if segment.startswith(ai)), None)
            part = {ai: segment[len(ai) :]} if ai else gs1_reference("^" + segment)
            if part is None:
                return None
            reference.update(part)
        return reference
    return {element.ai.ai: element.value for element in message.element_strings}


def compare(parsed: UdiParse, *, valid: bool, **expected: object) -> Verdict:
    """Agree when validity matches and, for a valid parse, every expected field does."""
    got = {name: getattr(parsed, name) for name in expected}
    agree = parsed.valid == valid and (not valid or got == expected)
    detail = f"valid={parsed.valid} (expected {valid})"
    if parsed.valid and valid and got != expected:
        detail += f"; got {got}, expected {expected}"
    if parsed.errors:
        detail += f"; errors {parsed.errors}"
    return Verdict(agree, detail)


def key_or_none(text: str) -> str | None:
    try:
        return canonical_key(text)
    except (InvalidKeyError, UnsupportedFormatError):
        return None


# ----------------------------------------------------------------------------- biip


def parse_elements(text: str, **settings: bool) -> UdiParse:
    """``parse_udi`` judged as biip judges: element strings one by one. biip's vectors test
    single AIs (``(17)…`` alone), never GS1 requisites, which hold for a whole label; so a
    missing requisite, and only that, is not held against a reading here."""
    parsed = parse_udi(text, **settings)
    if parsed.errors and all(e.startswith(REQUISITE_MISSING) for e in parsed.errors):
        return parsed.model_copy(update={"valid": True, "errors": []})
    return parsed


#: biip tests of API TraceGraph does not have, by test name.
BIIP_NOT_COMPARABLE = {
    "test_as_gtin_13": "renders GTIN-13; TraceGraph always writes GTIN-14",
    "test_as_gtin_12": "renders GTIN-12; TraceGraph always writes GTIN-14",
    "test_as_gtin_8": "renders GTIN-8; TraceGraph always writes GTIN-14",
    "test_as_gtin_13_fails_for_too_long_values": "renders GTIN-13",
    "test_as_gtin_12_fails_for_too_long_values": "renders GTIN-12",
    "test_as_gtin_8_fails_for_too_long_values": "renders GTIN-8",
    "test_gs1_price_weight_check_digit_with_nonnumeric_value": "retail price/weight check digit",
    "test_gs1_price_weight_check_digit_on_values_with_wrong_length": "retail price/weight check digit",
    "test_gs1_price_weight_check_digit": "retail price/weight check digit",
    "test_parse_with_invalid_element_values": "runs biip with date checks switched off",
    "test_extract_amount_payable_and_currency": "needs py-moneyed currency objects",
    "test_len": "length of biip's SymbologyIdentifier object",
    "test_str": "text of biip's SymbologyIdentifier object",
    "test_parse_upc_e": "UPC-E (zero-suppressed retail GTIN-12) is not a UDI carrier",
    "test_parse_upc_e_with_invalid_number_system": "UPC-E is not a UDI carrier",
    "test_parse_hri_fails_if_not_starting_with_parenthesis": (
        "biip's HRI-only parser refusing raw data; parse_udi has no HRI-only mode and reads raw element strings"
    ),
}


def _biip_module(row: Row) -> str:
    """The biip test module a vector comes from, e.g. ``gs1_messages``."""
    path: str = row["source"].split(":")[1]  # owner/repo@commit:tests/…/test_x.py:line
    return path.removeprefix("tests/").removesuffix(".py").replace("test_", "")


def _hri(element_strings: list[Row]) -> str:
    return "".join(f"({element['ai']['ai']}){element['value']}" for element in element_strings)


def _elements_of(expected: Row) -> tuple[bool, dict[str, str]]:
    """(valid, AI -> value) that a serialised biip message or URI describes."""
    elements = expected["element_strings"]
    valid = not any(key.endswith("_error") for element in elements for key in element)
    return valid, {element["ai"]["ai"]: element["value"] for element in elements}


def _biip_digital_link(row: Row) -> Verdict:
    test, value, expected = row["test"], row["input"], row["expected"]
    # A QR code in plain mode (]Q1) is how a Digital Link URI is scanned.
    parsed = parse_elements(f"]Q1{value}")
    if test == "test_parse":
        valid, elements = _elements_of(expected)
        return compare(parsed, valid=valid, elements=elements)
    if test == "test_parse_error":
        return compare(parsed, valid=False)
    if test in ("test_as_uri", "test_as_canonical_uri"):
        same_key = key_or_none(value) == key_or_none(expected)
        return Verdict(same_key and parsed.valid, f"keys {key_or_none(value)} / {key_or_none(expected)}")
    if test == "test_as_gs1_message":
        return compare(parsed, valid=True, elements=parse_elements(expected).elements)
    return _biip_lookup(parsed, row)


def _biip_lookup(parsed: UdiParse, row: Row) -> Verdict:
    """biip's filter()/get() by AI prefix, or by a word of the AI's data title (GS1's
    short name, e.g. BATCH/LOT), answered from our ``elements``."""
    params = row["params"]
    if "data_title" in params:
        matches = [value for ai, value in parsed.elements.items() if params["data_title"] in _data_title(ai)]
    else:
        prefix = params["ai"]["ai"] if isinstance(params["ai"], dict) else params["ai"]
        matches = [value for ai, value in parsed.elements.items() if ai.startswith(prefix)]
    expected = row["expected"]
    if row["test"].startswith(("test_get", "test_list_get")):
        got: object = matches[0] if matches else None
    else:
        got = matches or None
    return Verdict(parsed.valid and got == expected, f"got {got!r}, expected {expected!r}")


#: biip element-string tests whose date we can see: AIs 11-17 carry YYMMDD, and the GS1
#: date rule is the same for all, so the date is read through AI 17 (our ``expiry``).
_YYMMDD_AIS = ("11", "12", "13", "15", "16", "17")


def _biip_element_string(row: Row) -> Verdict:
    test, value, expected, params = row["test"], row["input"], row["expected"], row.get("params") or {}
    if test == "test_extract_fails_when_not_matching_pattern":  # bad_value includes the AI
        return compare(parse_elements(f"]C1{params['bad_value']}"), valid=False)
    if test == "test_extract_fails_with_invalid_date":  # the AI is the input
        return compare(parse_elements(f"]C1{value}{params['bad_value']}"), valid=False)
    if test == "test_extract_unknown_gs1_ai":
        return compare(parse_elements(f"]C1{value}"), valid=False)
    parsed = parse_elements(f"]C1{value}")  # GS1-128: the data is an element string
    if test == "test_as_hri":
        return compare(parsed, valid=True, elements=parse_elements(expected).elements)
    if test == "test_extract_gs1_ai":
        first_ai = next(iter(parsed.elements), None)
        return Verdict(first_ai == expected["ai"], f"first AI {first_ai}, expected {expected['ai']}")
    if test in ("test_extract_date_and_datetime", "test_extract_handles_zero_day_as_last_day_of_month"):
        day = expected["expected_date"] if isinstance(expected, dict) else expected
        if value[:2] in _YYMMDD_AIS and len(value) == 8:
            return compare(parse_elements(f"]C117{value[2:]}"), valid=True, expiry=day)
        return compare(parsed, valid=True)
    if test == "test_extract_handles_min_and_max_year_correctly":
        # The century of a YYMMDD date depends on the year the vector was made (GS1's
        # sliding window), so only the reading, not the date, is compared.
        return compare(parsed, valid=True, elements={expected["ai"]["ai"]: expected["value"]})
    if isinstance(expected, dict) and "ai" in expected:  # test_extract*, one element string
        valid = not any(key.endswith("_error") for key in expected)
        return compare(parsed, valid=valid, elements={expected["ai"]["ai"]: expected["value"]})
    return compare(parsed, valid=True)  # variable measures, amounts: read and valid


def _biip_message(row: Row) -> Verdict:
    test, value, expected, params = row["test"], row["input"], row["expected"], row.get("params") or {}
    if test == "test_parse_hri":
        return compare(parse_elements(value), valid=True, elements=_elements_of(expected)[1])
    if test.startswith("test_parse_hri_fails"):
        return compare(parse_elements(value), valid=False)
    if test == "test_parse_with_separator_char" and params["separator_chars"] != [GS]:
        raise NotComparable("custom separator characters; GS1 scanners send GS (0x1D)")
    parsed = parse_elements(f"]C1{value}")
    if test == "test_parse_fails_if_unparsed_data_left":
        return compare(parsed, valid=False)
    if test == "test_parse":
        return compare(parsed, valid=True, elements=_elements_of(expected)[1])
    if test in ("test_parse_with_separator_char", "test_parse_ignores_redundant_separator_chars"):
        return compare(parsed, valid=True, elements=parse_elements(expected["expected_hri"]).elements)
    if test == "test_as_hri":
        return compare(parsed, valid=True, elements=parse_elements(expected).elements)
    if test == "test_as_gs1_digital_link_uri":
        return Verdict(key_or_none(f"]C1{value}") == key_or_none(expected), "same key")
    return _biip_lookup(parsed, row)


def _biip_top_level(row: Row) -> Verdict:
    """``biip.parse``: what it found decides what we should find."""
    expected = row["expected"]
    if (expected.get("upc") or {}).get("format") == "UPC_E":
        raise NotComparable("UPC-E is not a UDI carrier")
    parsed = parse_elements(row["input"])
    if expected.get("gtin"):  # a valid GTIN wins: biip offers readings, we pick one
        return compare(parsed, valid=True, gtin=expected["gtin"]["value"].zfill(14))
    for found in ("gs1_message", "gs1_digital_link_uri"):
        if expected.get(found):
            valid, elements = _elements_of(expected[found])
            return compare(parsed, valid=valid, elements=elements)
    if expected.get("sscc"):
        return compare(parsed, valid=True, elements={"00": expected["sscc"]["value"]})
    return compare(parsed, valid=False)


def _biip_check_digit(row: Row) -> Verdict:
    value, expected = row["input"], row["expected"]
    if row["test"].endswith("nonnumeric_value"):
        try:
            gs1_check_digit(value)
        except InvalidKeyError:
            return Verdict(True, "refused")
        return Verdict(False, "accepted a non-numeric value")
    if expected is None:
        raise NotComparable("the vector lost its expected value in extraction (null)")
    got = gs1_check_digit(value)
    return Verdict(got == str(expected), f"got {got}, expected {expected}")


def _biip_gtin(row: Row) -> Verdict:
    value = row["input"]
    if row["test"] == "test_parse_nonnumeric_value":
        return compare(parse_elements(value), valid=False)
    gtin14 = row["expected"] if row["test"] == "test_as_gtin_14" else value.zfill(14)
    return compare(parse_elements(value), valid=True, gtin=gtin14)


def _biip_sscc(row: Row) -> Verdict:
    if row["test"] == "test_as_hri":
        raise NotComparable("SSCC caption spacing needs the company prefix length")
    return compare(parse_elements(f"]C100{row['input']}"), valid=False)  # non-numeric SSCCs


_BIIP_JUDGES: dict[str, Callable[[Row], Verdict]] = {
    "gtin/encode": _biip_gtin,
    "gtin/parse": _biip_gtin,
    "checksums": _biip_check_digit,
    "gs1_application_identifiers": _biip_element_string,
    "gs1_element_strings": _biip_element_string,
    "gs1_digital_link_uris": _biip_digital_link,
    "gs1_messages": _biip_message,
    "parse": _biip_top_level,
    "sscc": _biip_sscc,
}


def _biip_built(row: Row) -> Verdict:
    """Vectors whose input is a list of element strings: we read them as HRI."""
    parsed = parse_elements(_hri(row["input"]))
    if row["test"] == "test_from_element_strings":
        expected = row["expected"]
        if _biip_module(row) == "gs1_digital_link_uris":
            return Verdict(parsed.key == key_or_none(expected["value"]), f"key {parsed.key}")
        return compare(parsed, valid=True, elements=_elements_of(expected)[1])
    return _biip_lookup(parsed, row)


def biip_verdict(row: Row) -> Verdict:
    if row["category"] != "gs1":
        raise NotComparable("retail features (RCN variable measures, UPC, GS1 prefix tables)")
    if row["test"] in BIIP_NOT_COMPARABLE:
        raise NotComparable(BIIP_NOT_COMPARABLE[row["test"]])
    if isinstance(row["input"], list):
        return _biip_built(row)
    module = _biip_module(row)
    if module in ("symbology", "upc/parse"):
        raise NotComparable("biip's symbology-identifier and UPC-E objects")
    return _BIIP_JUDGES[module](row)


# ---------------------------------------------------------------- GS1 syntax engine

#: The engine's symbology names -> (identifier for GS1 data, identifier for plain data).
_SYMBOLOGIES = {
    "QR": ("]Q3", "]Q1"),
    "DM": ("]d2", "]d1"),
    "DotCode": ("]J1", "]J0"),
    "DataBarExpanded": ("]e0", "]e0"),
    "GS1_128_CCA": ("]C1", "]C1"),
    "GS1_128_CCC": ("]C1", "]C1"),
    "DataBarOmni": ("]e0", "]e0"),
    "DataBarLimited": ("]e0", "]e0"),
    "EAN13": ("]E0", "]E0"),
    "UPCA": ("]E0", "]E0"),
    "UPCE": ("]E0", "]E0"),
    "EAN8": ("]E4", "]E4"),
}


def _scan(data: str, symbology: str | None) -> str:
    """Engine notation (``^`` = FNC1) -> what a scanner would send."""
    if data.startswith("^"):
        identifier = _SYMBOLOGIES[symbology][0] if symbology else "]d2"
        return identifier + data[1:].replace("^", GS)
    return (_SYMBOLOGIES[symbology][1] if symbology else "]d1") + data


#: Symbology identifiers of the plain (non-GS1) mode of a 2D symbology.
_PLAIN_MODES = frozenset(plain for gs1, plain in _SYMBOLOGIES.values() if gs1 != plain)


#: The schemes with which the engine reads plain data as a GS1 Digital Link URI (dl.c):
#: ``http``/``https`` in one case. ``HtTps://…`` stays plain data.
_DL_PREFIXES = ("http://", "https://", "HTTP://", "HTTPS://")


def _is_plain_data(data: str) -> bool:
    """Whether the engine treats ``data`` as plain data, not GS1: no leading FNC1 (``^``),
    so no element string; not the digits of an EAN/UPC symbol; not a Digital Link URI."""
    return not data.startswith(("^", *_DL_PREFIXES)) and not data.isdigit()


def plain_data_verdict(parsed: UdiParse) -> Verdict:
    """The engine calls plain (non-GS1) data in a symbol's plain mode a valid *symbol*;
    parse_udi reads UDIs and refuses it. Both say the same thing, "this is not GS1 data",
    so this agrees only when we refuse it and every error gives exactly that reason
    (``NOT_GS1_DATA``), not some other fault found in it."""
    agree = not parsed.valid and bool(parsed.errors) and all(e.startswith(NOT_GS1_DATA) for e in parsed.errors)
    return Verdict(agree, f"valid={parsed.valid}; errors {parsed.errors} (expected only {NOT_GS1_DATA!r})")


#: The engine's defaults (gs1encoders.c), as the keyword options of ``parse_udi`` of the
#: same names; TraceGraph's own defaults differ in two (see ``Gs1Settings``).
ENGINE_DEFAULTS: dict[str, bool] = {
    "permit_unknown_ais": False,
    "permit_zero_suppressed_gtin_in_dl_uris": False,
    "permit_convenience_alphas": False,
    "validate_unknown_ai_not_dl_attr": True,
}
#: The engine's setters, as recorded in ``settings_in_effect`` -> our option.
_ENGINE_SETTERS = {
    "gs1_encoder_setPermitUnknownAIs": "permit_unknown_ais",
    "gs1_encoder_setPermitZeroSuppressedGTINinDLuris": "permit_zero_suppressed_gtin_in_dl_uris",
    "gs1_encoder_setValidationEnabled(gs1_encoder_vUNKNOWN_AI_NOT_DL_ATTR)": "validate_unknown_ai_not_dl_attr",
}
#: Settings the engine's tests change with no API call, so ``settings_in_effect`` misses them:
#: dl.c sets ``ctx->permitConvenienceAlphas = true`` ("No API so we hack this") for the three
#: cases after the one showing it is off by default, then resets it.
_SETTINGS_WITHOUT_API = {f"src/c-lib/dl.c:{line}": {"permit_convenience_alphas": True} for line in (1437, 1438, 1439)}


def engine_settings(row: Row) -> dict[str, bool]:
    """The engine settings a vector ran with, as ``parse_udi`` keyword options; AddCheckDigit
    concerns generating EAN/UPC scan data, which we only read, so it has no option."""
    settings = dict(ENGINE_DEFAULTS)
    for setter, value in (row.get("settings_in_effect") or {}).items():
        if setter in _ENGINE_SETTERS:
            settings[_ENGINE_SETTERS[setter]] = value
    settings.update(_SETTINGS_WITHOUT_API.get(row["source"].split(":", 1)[1], {}))
    return settings


def _unknown_ais(row: Row) -> frozenset[str]:
    """AIs GS1 does not define that the vector's input names, ``(89)…`` or ``89=…``."""
    if not engine_settings(row)["permit_unknown_ais"]:
        return frozenset()
    named = re.findall(r"[(?&]([0-9]{2,4})[)=]", row["input"])
    return frozenset(ai for ai in named if not _is_gs1_ai(ai))


def _data_title(ai: str) -> str:
    """GS1's data title of an AI, as biip's table has it."""
    return GS1ApplicationIdentifier.extract(ai).data_title


def _is_gs1_ai(ai: str) -> bool:
    try:
        return GS1ApplicationIdentifier.extract(ai).ai == ai
    except ParseError:
        return False


def _placeholder(row: Row) -> None:
    if row["input"] in ("inbuf", "buf"):
        raise NotComparable("the input is built in C code; the vector holds a placeholder")


def _engine_element_string(row: Row) -> Verdict:
    expected, settings = row["expected"], engine_settings(row)
    # The engine runs these through its AI parser alone; requisites are a later check.
    if row["kind"] == "bracketed_ai_to_element_string":
        parsed = parse_elements(row["input"], **settings)
    else:  # element_string_validate
        parsed = parse_elements(_scan(row["input"], None) if row["input"] else "", **settings)
    if expected["valid"] and expected.get("expected_element_string"):
        reference = gs1_reference(expected["expected_element_string"], _unknown_ais(row))
        return compare(parsed, valid=True, elements=reference)
    return compare(parsed, valid=expected["valid"])


def _engine_dl_to_element_string(row: Row) -> Verdict:
    expected = row["expected"]
    parsed = parse_udi(row["input"], **engine_settings(row))
    if expected["valid"]:
        reference = gs1_reference(expected["expected_element_string"], _unknown_ais(row))
        return compare(parsed, valid=True, elements=reference)
    return compare(parsed, valid=False)


def _engine_element_string_to_dl(row: Row) -> Verdict:
    """``digital_link(…, attributes=True)`` must write the engine's URI exactly."""
    expected, settings = row["expected"], engine_settings(row)
    stem = (row.get("params") or {}).get("uri_stem") or "https://id.gs1.org"
    try:
        link = digital_link(
            row["input"],
            base=stem,
            attributes=True,
            permit_unknown_ais=settings["permit_unknown_ais"],
            validate_unknown_ai_not_dl_attr=settings["validate_unknown_ai_not_dl_attr"],
        )
    except (InvalidKeyError, UnsupportedFormatError) as exc:
        link, refusal = None, str(exc)
    else:
        refusal = ""
    if not expected["valid"]:
        return Verdict(link is None, f"we link it as {link}")
    return Verdict(link == expected["expected_dl_uri"], f"linked as {link} {refusal}".strip())


def _engine_to_scan_data(row: Row) -> Verdict:
    """Generating scan data: we check the reverse, reading the scan data back."""
    expected, symbology = row["expected"], row["params"]["symbology"]
    data = row["input"]
    if not expected["valid"]:
        scan = data if symbology == "NONE" else _scan(data, symbology)
        return compare(parse_udi(scan), valid=False)
    parsed = parse_udi(expected["expected_scan_data"])
    if expected["expected_scan_data"][:3] in _PLAIN_MODES and _is_plain_data(data):
        return plain_data_verdict(parsed)
    if data.startswith("^") and "|" not in data:
        return compare(parsed, valid=True, elements=gs1_reference(data))
    if data.isdigit():  # a GTIN in an EAN/UPC symbol (the engine may add its check digit)
        return compare(parsed, valid=True, gtin=expected["expected_scan_data"][3:].zfill(14))
    return compare(parsed, valid=True)


def _engine_scan_data(row: Row) -> Verdict:
    expected = row["expected"]
    parsed = parse_udi(row["input"])
    data = expected["expected_data"]
    if not expected["valid"]:
        return compare(parsed, valid=False)
    if row["input"][:3] in _PLAIN_MODES and _is_plain_data(data):
        return plain_data_verdict(parsed)
    if data.startswith("^") and "|" not in data:
        return compare(parsed, valid=True, elements=gs1_reference(data))
    if data.isdigit():
        return compare(parsed, valid=True, gtin=data.zfill(14))
    return compare(parsed, valid=True)


_ENGINE_JUDGES: dict[str, Callable[[Row], Verdict]] = {
    "bracketed_ai_to_element_string": _engine_element_string,
    "element_string_validate": _engine_element_string,
    "linter_error_markup": lambda row: compare(parse_udi(row["input"]), valid=False),
    "ai_association_validation": lambda row: compare(
        parse_udi(row["input"], **engine_settings(row)), valid=row["expected"]["valid"]
    ),
    "dl_uri_to_element_string": _engine_dl_to_element_string,
    "element_string_to_dl_uri": _engine_element_string_to_dl,
    "element_string_to_scan_data": _engine_to_scan_data,
    "scan_data_to_element_string": _engine_scan_data,
}


def engine_verdict(row: Row) -> Verdict:
    _placeholder(row)
    return _ENGINE_JUDGES[row["kind"]](row)


# ------------------------------------------------------------------ brixion/bardecoder


def _brixion_fields(parsed: UdiParse, row: Row) -> dict[str, object]:
    """Our reading in bardecoder's field names."""
    elements = parsed.elements
    secondary = elements.get("secondary_data")
    if secondary is not None and "link_character" in elements:
        # bardecoder keeps the link and check characters in a lone secondary symbol.
        secondary += elements["link_character"] + elements["check_character"]
    product_code = parsed.product_code
    if row["symbology_family"] == "GS1":  # bardecoder's notion: AI (240), or GTIN less zeros and check
        product_code = elements.get("240") or (parsed.gtin or "").lstrip("0")[:-1]
    return {
        "lic": parsed.lic,
        "product_code": product_code,
        "packaging_index": elements.get("unit_of_measure"),
        "check_character": elements.get("check_character"),
        "secondary_data": secondary,
        "lot": parsed.lot,
        "serial_number": parsed.serial,
        "expiry_date": parsed.expiry,
        "date_of_manufacture": parsed.manufactured,
        "is_valid": parsed.valid,
    }


def brixion_verdict(row: Row) -> Verdict:
    text: str = row["input_gs_normalised"] if "input_gs_normalised" in row else row["input"]
    ours = _brixion_fields(parse_udi(text), row)
    # bardecoder writes a missing date as ""; we write None.
    expected = {name: row["expected"][name] if row["expected"][name] != "" else None for name in row["asserted_fields"]}
    got = {name: ours[name] for name in expected}
    return Verdict(got == expected, f"got {got}, expected {expected}")


# ---------------------------------------------------------------- explained exceptions
# Each reason says why we read the data differently on purpose, or why the vector is at fault.

_GRAI = (
    "we differ: the GRAI 7071324001022 has check digit 2, expected 1; biip does not check GRAI check digits, "
    "GS1 does (General Specifications 3.9.3; the syntax dictionary's csum linter on (8003), which the GS1 "
    "syntax engine's vectors exercise)"
)
_RUN_ON_DATE = (
    "we differ: 0107032069804988 10032915210526 has no GS, so the lot may be 032915210526 (GS1's reading) or "
    "0329 followed by (15) 2021-05-26; labels for the Chinese market often omit that GS, so both valid "
    "readings are reported and the barcode is refused as ambiguous rather than guessed (identifiers.md, #12)"
)
_HIBC_SERIAL_FLAG = "we differ: in ANSI/HIBC 2.6 '$+' flags a serial number; bardecoder reports HEK13044 as the lot"
_HIBC_LEADING_ZEROS = (
    "we differ: bardecoder drops the leading zeros of the product code; HIBCC keeps '003152EU' exactly, "
    "and the UDI-DI is LIC + product code + unit of measure as encoded"
)
_NO_READING = (
    "vector fault: (01)0081705102232(11)121120210A63098 has a 13-digit (01) whose GTIN-13 check digit fails "
    "(7, not 2), so it is refused; and no reading of it, brackets kept or ignored, gives bardecoder's expiry "
    "2012-12-20 (the only date in it is 121120)"
)

KNOWN_EXCEPTIONS: dict[str, dict[int, str]] = {
    BIIP: {
        213: _GRAI,
        293: _GRAI,
        295: _RUN_ON_DATE,
    },
    ENGINE: {},
    BRIXION: {
        2: _HIBC_SERIAL_FLAG,
        26: _HIBC_LEADING_ZEROS,
        32: _NO_READING,
    },
}


# ------------------------------------------------------------------------------ tests


def _rows(name: str) -> Iterator[tuple[int, Row]]:
    with (BARCODES / name).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            yield number, json.loads(line)


@dataclass
class Tally:
    total: int = 0
    not_comparable: int = 0
    agree: int = 0
    explained: int = 0

    @property
    def comparable(self) -> int:
        return self.total - self.not_comparable

    @property
    def raw_agreement(self) -> float:
        """Agreement over every comparable vector, explained exceptions included."""
        return self.agree / self.comparable if self.comparable else 1.0

    @property
    def agreement(self) -> float:
        """Agreement over comparable vectors that are not explained exceptions."""
        judged = self.comparable - self.explained
        return self.agree / judged if judged else 1.0

    def __str__(self) -> str:
        return (
            f"{self.total} vectors, {self.not_comparable} not comparable, {self.agree} agree, "
            f"{self.explained} explained exceptions: agreement {self.agreement:.1%} "
            f"({self.raw_agreement:.1%} counting the exceptions)"
        )


def judge_file(name: str, judge: Callable[[Row], Verdict]) -> tuple[Tally, dict[int, str], list[int]]:
    """Tally a vector file; return the unexplained disagreements and stale exceptions."""
    tally = Tally()
    unexplained: dict[int, str] = {}
    stale: list[int] = []
    for number, row in _rows(name):
        tally.total += 1
        try:
            verdict = judge(row)
        except NotComparable:
            tally.not_comparable += 1
            continue
        if verdict.agree:
            tally.agree += 1
            if number in KNOWN_EXCEPTIONS[name]:
                stale.append(number)
        elif number in KNOWN_EXCEPTIONS[name]:
            tally.explained += 1
        else:
            unexplained[number] = f"{row['input']!r}: {verdict.detail}"
    return tally, unexplained, stale


_FILES: list[tuple[str, Callable[[Row], Verdict]]] = [
    (BIIP, biip_verdict),
    (ENGINE, engine_verdict),
    (BRIXION, brixion_verdict),
]


@pytest.mark.parametrize(("name", "judge"), _FILES)
def test_agreement_with_vectors(name: str, judge: Callable[[Row], Verdict]) -> None:
    tally, unexplained, stale = judge_file(name, judge)
    print(f"\n{name}: {tally}")
    assert not unexplained, "disagreements missing from KNOWN_EXCEPTIONS:\n" + "\n".join(
        f"  line {number}: {detail}" for number, detail in unexplained.items()
    )
    assert not stale, f"KNOWN_EXCEPTIONS lists vectors that now agree (remove them): lines {stale}"
    assert tally.agreement >= 0.99, f"{name}: {tally}"


def test_pooled_agreement_and_every_exception_says_why() -> None:
    """Over all three files: agreement without the explained exceptions, and agreement
    counting them as disagreements (the issue's acceptance figure), both at least 99%."""
    tallies = [judge_file(name, judge)[0] for name, judge in _FILES]
    comparable = sum(t.comparable for t in tallies)
    agree = sum(t.agree for t in tallies)
    explained = sum(t.explained for t in tallies)
    raw_agreement = agree / comparable
    print(
        f"\npooled: {comparable} comparable, {agree} agree, {explained} explained exceptions: "
        f"{agree / (comparable - explained):.2%} without them, {agree}/{comparable} = {raw_agreement:.1%} counting them"
    )
    reasons = [reason for exceptions in KNOWN_EXCEPTIONS.values() for reason in exceptions.values()]
    assert all(reason.startswith(("we differ: ", "vector fault: ")) for reason in reasons)
    assert explained == len(reasons), "every known exception is a comparable vector that disagrees"
    assert agree / (comparable - explained) >= 0.99
    assert raw_agreement >= 0.99, f"pooled agreement counting the exceptions: {agree}/{comparable}"
