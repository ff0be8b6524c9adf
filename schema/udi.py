"""UDI barcodes: whatever a scanner read, parsed into one shape.

:func:`parse_udi` reads what a UDI carrier holds, with or without the symbology
identifier a scanner may prefix (``]d2``, ``]C1``, ``]Q3``, ``]e0``, ``]E0`` …):

- **GS1** element strings, bracketed ``(01)…(21)…`` or raw with GS (FNC1) separators,
  GS1 Digital Link URIs on any host, bare GTINs from EAN/UPC/ITF-14 symbols, and bare
  SSCCs (18 digits, as warehouse systems export a pallet number; read with a warning).
  Element strings are parsed by the maintained ``biip`` library; this module adds what a
  recall system must not let through: check digits of every GS1 key, real calendar dates
  (DD 00 is the last day of the month), one value per AI, and the Digital Link rules of
  GS1 Digital Link URI syntax 1.1 (key qualifiers in the path, in order; only data
  attributes in the query). :func:`gs1_digital_link_uri` writes element strings back as a
  Digital Link with their data attributes.
- **HIBCC** (ANSI/HIBC 2.6 Supplier Labeling Standard): primary data, secondary data
  concatenated after ``/`` or on a second line with its link character, every date form,
  quantities, lots, serials and the mod-43 check character.
- **MA** (China IDcode): the DI ``MA.156.M0.{registrant}.{product}`` and its ``.L .S .M .D
  .V .E .C`` production data. MA's check algorithm is not public, so MA check characters
  are reported as unverified rather than checked.

AHM (China) and ICCBBA ISBT 128 codes are recognised and refused, never misread.
The result's ``key`` is the canonical key of :mod:`schema.identifiers`.

AI values are checked against the GS1 Barcode Syntax Dictionary (:mod:`schema.gs1_formats`):
length, character set and, per component, the dictionary's linters as GS1's syntax engine
defines them (check digits, the GMN check character pair, dates, country and currency
codes, ...), all but those in :data:`UNCHECKED_LINTERS`. Four keyword
options of :func:`parse_udi` mirror settings of GS1's reference parser, the GS1 Barcode
Syntax Engine (:class:`Gs1Settings`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from typing import Literal, cast
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

import pycountry
from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.symbology import ISOSymbology
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field
from stdnum.iso7064 import mod_97_10

from schema.errors import InvalidKeyError, UnsupportedFormatError
from schema.gs1_exclusions import EXCLUSIONS, REQUISITES
from schema.gs1_formats import FORMATS, AiComponent
from schema.identifiers import (
    LOT_AI,
    SERIAL_AI,
    gs1_key,
    hibc_key,
    ma_key,
    normalise_gtin,
    validate_gs1_check_digit,
)

__all__ = [
    "BARE_SSCC_WARNING",
    "CHECKED_LINTERS",
    "DL_CONVENIENCE_NAMES",
    "NOT_GS1_DATA",
    "REQUISITE_MISSING",
    "UNCHECKED_LINTERS",
    "Gs1Settings",
    "UdiParse",
    "gs1_check_character_pair",
    "gs1_digital_link_uri",
    "hibc_check_character",
    "parse_udi",
    "read_barcode",
]

Issuer = Literal["GS1", "HIBCC", "MA"]

REQUISITE_MISSING = "GS1 requisite AI missing"
#: How every refusal of data that is not GS1 (nor another UDI format) begins: plain data in
#: a symbology's non-GS1 mode (``]Q1``, ``]d1``, ``]J0``), an empty symbol, a URI that is not
#: a GS1 Digital Link URI.
NOT_GS1_DATA = "not GS1 data"
AHM_UNSUPPORTED = "AHM codes are not supported yet (the format is not public)"
ICCBBA_UNSUPPORTED = "ICCBBA ISBT 128 codes are not supported"


class UdiParse(BaseModel):
    """What a UDI barcode says; exactly the JSON of ``tracegraph udi parse --json``.

    ``valid`` is false when the data breaks its standard (syntax, check character, date);
    ``errors`` then say what is wrong, the other fields hold what could still be read,
    and ``key`` is None. A valid barcode may still have no key: a HIBCC secondary line
    or a GS1 barcode with only production data names no thing by itself.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    valid: bool
    issuer: Issuer | None = None
    gtin: str | None = None
    lic: str | None = None
    product_code: str | None = None
    di: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: str | None = Field(default=None, description="YYYY-MM-DD")
    manufactured: str | None = Field(default=None, description="YYYY-MM-DD")
    quantity: int | None = None
    key: str | None = Field(
        default=None,
        description="canonical key: unit key when serial, else lot key, else class key",
    )
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(
        default_factory=list,
        description="what was read on an assumption, e.g. a GS (FNC1) the data lacks",
    )
    readings: list[dict[str, str]] = Field(
        default_factory=list,
        description="when GS1 data without a GS allows several readings: each one, AI -> value",
    )
    elements: dict[str, str] = Field(
        default_factory=dict,
        description="raw AI -> value (GS1), or HIBCC/MA field name -> value",
    )


@dataclass(frozen=True)
class Gs1Settings:
    """How GS1 data is read, as the GS1 Barcode Syntax Engine's settings of the same names.

    ``permit_unknown_ais`` (engine: ``setPermitUnknownAIs``, off by default): read an AI
    that GS1 does not define, in bracketed data or a Digital Link URI (where its length is
    written), as up to 90 characters of CSET 82, with a warning.

    ``permit_zero_suppressed_gtin_in_dl_uris`` (``setPermitZeroSuppressedGTINinDLuris``;
    on here, off in the engine): read a GTIN-8, -12 or -13 as AI (01) of a Digital Link
    URI, zero-padded to the GTIN-14 it can only mean. Off, the GTIN must have 14 digits.

    ``permit_convenience_alphas`` (the engine's ``permitConvenienceAlphas``; on here, off in
    the engine): read the path names of Digital Link 1.0 (``/gtin/…``, ``/ser/…``),
    withdrawn in 1.1, as their AIs, with a warning.

    ``validate_unknown_ai_not_dl_attr`` (the engine's ``UNKNOWN_AI_NOT_DL_ATTR`` validation,
    on by default): an unknown AI, when permitted, is still refused as a Digital Link data
    attribute (query parameter).
    """

    permit_unknown_ais: bool = False
    permit_zero_suppressed_gtin_in_dl_uris: bool = True
    permit_convenience_alphas: bool = True
    validate_unknown_ai_not_dl_attr: bool = True


_DEFAULT_SETTINGS = Gs1Settings()


def _invalid(issuer: Issuer | None, *errors: str) -> UdiParse:
    return UdiParse(valid=False, issuer=issuer, errors=list(errors))


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


# ----------------------------------------------------------------------------- entry


def parse_udi(
    text: str,
    *,
    permit_unknown_ais: bool = False,
    permit_zero_suppressed_gtin_in_dl_uris: bool = True,
    permit_convenience_alphas: bool = True,
    validate_unknown_ai_not_dl_attr: bool = True,
) -> UdiParse:
    """Parse one scanned or typed UDI barcode; never raises for bad input.

    The keyword options are those of :class:`Gs1Settings`; the defaults suit scanning.

    >>> parse_udi("]d2010950600013435217250100" "10L1\\x1d21S1").key
    '01/09506000134352/21/S1'
    >>> parse_udi("+A99912345/$$52001510X3/16D20111212/S77DEFG457").serial
    '77DEFG45'
    """
    settings = Gs1Settings(
        permit_unknown_ais=permit_unknown_ais,
        permit_zero_suppressed_gtin_in_dl_uris=permit_zero_suppressed_gtin_in_dl_uris,
        permit_convenience_alphas=permit_convenience_alphas,
        validate_unknown_ai_not_dl_attr=validate_unknown_ai_not_dl_attr,
    )
    try:
        return read_barcode(text, settings=settings)
    except UnsupportedFormatError as exc:
        return _invalid(None, str(exc))


def read_barcode(text: str, *, settings: Gs1Settings = _DEFAULT_SETTINGS) -> UdiParse:
    """Like :func:`parse_udi`, but raise :class:`UnsupportedFormatError` for formats
    that are recognised and cannot be read (AHM, ICCBBA) instead of reporting them."""
    if text.lstrip().startswith("<"):
        return _parse_udi_xml(text.strip(), settings)  # the XML form may span lines
    lines = [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]
    if not lines:
        return _invalid(None, "empty input: no barcode data")
    if len(lines) == 2 and all(_is_hibc(line.strip()) for line in lines):
        return _parse_hibc_pair(lines[0].lstrip(), lines[1].lstrip())
    if len(lines) > 1:
        return _parse_gs1_label([line.strip() for line in lines], settings)
    if _COMPOSITE_SEPARATOR.search(lines[0]):
        # A GS1 Composite symbol: the linear part, '|', then the 2D component.
        return _parse_gs1_label(_COMPOSITE_SEPARATOR.split(lines[0].strip()), settings)
    return _parse_scan(lines[0].lstrip(), settings)


def _parse_gs1_label(lines: Sequence[str], settings: Gs1Settings) -> UdiParse:
    """The GS1 symbols of one label, one per line, read as one message: GS1 judges
    requisites (``req=``) and exclusions over all the symbols that mark an item."""
    symbols = [_parse_scan(line, settings) for line in lines]
    if any(symbol.issuer != "GS1" for symbol in symbols):
        return _invalid(
            None,
            f"one barcode per input, got {len(lines)} lines (only the GS1 symbols of one label, "
            "or a HIBCC primary and secondary pair, may come on several lines)",
        )
    for number, symbol in enumerate(symbols, start=1):
        if not all(e.startswith(REQUISITE_MISSING) for e in symbol.errors):
            return symbol.model_copy(update={"errors": [f"line {number}: {e}" for e in symbol.errors]})
    joined = "".join(f"({ai}){value.replace('(', chr(92) + '(')}" for s in symbols for ai, value in s.elements.items())
    label = _parse_bracketed(joined, settings)
    warnings = [w for symbol in symbols for w in symbol.warnings if w not in label.warnings]
    return label.model_copy(update={"warnings": [*label.warnings, *warnings]}) if warnings else label


# ------------------------------------------------------------------ dispatch by content

#: Symbology identifiers (ISO/IEC 15424) that announce GS1 element strings ...
_GS1_MESSAGE_SYMBOLOGIES = frozenset({"C1", "e0", "d2", "Q3", "J1"})
#: ... and those that carry a bare GTIN, with its digit count (EAN-13 and UPC-A as 13,
#: EAN-8, ITF-14).
_GTIN_SYMBOLOGIES = {"E0": 13, "E4": 8, "I1": 14}
#: ISO/IEC 15424 code characters; biip's list lacks DotCode's J.
_SYMBOLOGY_CODES = frozenset(member.value for member in ISOSymbology) | {"J"}
_GS1_SYMBOLOGY_HINT = "]C1, ]e0, ]d2, ]Q3 or ]J1"
GS = "\x1d"  # ASCII group separator: how scanners transmit FNC1

#: How scanners join the linear and 2D parts of a GS1 Composite symbol: ``]E0…|]e0…``.
_COMPOSITE_SEPARATOR = re.compile(r"\|(?=\][A-Za-z][0-9])")

_AHM_TAGS = re.compile(r"\((?:DI|BN|SN|MD|BD|ED)\)")


def _split_symbology(line: str) -> tuple[str | None, str]:
    """Split an ISO/IEC 15424 symbology identifier (``]`` + code + modifier) off."""
    if not line.startswith("]"):
        return None, line
    identifier = line[1:3]
    if len(identifier) < 2:
        raise InvalidKeyError(f"symbology identifier {line[:3]!r} is incomplete")
    if identifier[0] not in _SYMBOLOGY_CODES:
        raise InvalidKeyError(f"unknown symbology identifier ']{identifier}' (ISO/IEC 15424)")
    return identifier, line[3:]


def _is_hibc(data: str) -> bool:
    return data.startswith(("+", "*+"))


def _unsupported_format(data: str) -> str | None:
    """The refusal for a recognised but unreadable format, else None."""
    if data[:3].upper() == "AHM" or _AHM_TAGS.match(data):
        return AHM_UNSUPPORTED
    if data[:1] in ("=", "&"):
        return ICCBBA_UNSUPPORTED
    return None


def _parse_scan(line: str, settings: Gs1Settings = _DEFAULT_SETTINGS) -> UdiParse:
    try:
        symbology, data = _split_symbology(line)
    except InvalidKeyError as exc:
        return _invalid(None, str(exc))
    if symbology in _GS1_MESSAGE_SYMBOLOGIES:
        data = data.strip()
        if data[:8].lower().startswith(("http://", "https://")):
            # Digital Link belongs in plain mode (]Q1, ]d1), but some encoders set FNC1.
            return _ma_in_url(data) or _parse_digital_link(data, settings)
        return _parse_element_string(data)
    if symbology in _GTIN_SYMBOLOGIES:
        digits = _GTIN_SYMBOLOGIES[symbology]
        if len(data.strip()) != digits:
            return _invalid("GS1", f"]{symbology} carries {digits} digits, got {data.strip()!r}")
        return _parse_bare_gtin(data.strip())
    return _parse_plain(data, symbology, settings)


def _parse_plain(data: str, symbology: str | None, settings: Gs1Settings) -> UdiParse:
    """Data whose format only its content tells: no symbology identifier, or a
    non-GS1 one (``]d1``, ``]Q1``, ``]A0``, ``]C0`` …)."""
    refusal = _unsupported_format(data.strip())
    if refusal is not None:
        raise UnsupportedFormatError(refusal)
    if _is_hibc(data):
        return _parse_hibc_line(data)
    data = data.strip()
    if data.startswith("MA."):
        return _parse_ma(data)
    if data.startswith("<"):
        return _parse_udi_xml(data, settings)
    if (wrapped := _ma_in_url(data)) is not None:
        return wrapped
    if data[:8].lower().startswith(("http://", "https://")):
        return _parse_digital_link(data, settings)
    if not data:
        return _invalid(None, f"{NOT_GS1_DATA}: no data after the symbology identifier ]{symbology}")
    if symbology is not None:
        return _invalid(
            None,
            f"{NOT_GS1_DATA}: symbology identifier ]{symbology} marks data that is not GS1, and it is "
            "not HIBCC (+…), MA (MA.…) or a GS1 Digital Link URI; GS1 element strings "
            f"need {_GS1_SYMBOLOGY_HINT}",
        )
    if data.startswith("("):
        return _parse_bracketed(data, settings)
    if data[0].isdigit():
        return _parse_raw_gs1(data)
    return _invalid(
        None,
        f"not a recognised UDI: {data[:20]!r} is not a GS1 element string, GS1 Digital "
        "Link URI, HIBCC (+…) or MA (MA.…) code",
    )


# ------------------------------------------------------------------------------- GS1

# Dates are checked here rather than by biip, so the error can say which AI and why.
_GS1_CONFIG = ParseConfig(gs1_element_strings_verify_date=False)

#: AIs biip reads as dates: with date checks off, a None date means "not a date".
_DATE_AIS = frozenset(
    ("11", "12", "13", "15", "16", "17", "4324", "4325", "4326", "7003", "7006", "7007", "7011", "8008")
)

#: GS1 keys with a mod-10 check digit, beyond the GTIN/SSCC/GLN biip checks:
#: AI -> (name, slice of the value that ends in the check digit).
_CHECKED_KEYS: dict[str, tuple[str, slice]] = {
    "253": ("GDTI", slice(0, 13)),
    "255": ("GCN", slice(0, 13)),
    "402": ("GSIN", slice(0, 17)),
    "8003": ("GRAI", slice(1, 14)),
    "8006": ("ITIP", slice(0, 14)),
    "8017": ("GSRN", slice(0, 18)),
    "8018": ("GSRN", slice(0, 18)),
}

_DL_SCHEMES = ("http", "https", "HTTP", "HTTPS")  # no mixed case (GS1 Digital Link)
#: Characters a URI may hold that have no place in a resolver's domain name or address: a
#: user name (``@``), an IPv6 zone (``%25``), sub-delimiters (as GS1's syntax engine, dl.c).
_DL_BAD_HOST_CHARACTERS = frozenset("_~@!$&'()*+,;=%")


def _non_ascii(data: str, what: str) -> str | None:
    for position, character in enumerate(data):
        if not character.isascii():
            return f"{what} must be ASCII; found {character!r} at position {position}"
    return None


def _checked_number(ai: str, value: str) -> tuple[str, str] | None:
    """(name, digits ending in a check digit) of a GS1 key element, else None."""
    if ai in ("01", "02", "03"):
        return "GTIN", value
    if ai == "00":
        return "SSCC", value
    if ai.startswith("41"):
        return "GLN", value
    if ai in _CHECKED_KEYS:
        name, digits = _CHECKED_KEYS[ai]
        return name, value[digits]
    return None


def _element_errors(element: GS1ElementString) -> list[str]:
    """What is wrong with one parsed element string beyond its AI's pattern."""
    ai, value = element.ai.ai, element.value
    if (problem := _non_ascii(value, f"AI ({ai}) value")) is not None:
        return [problem]  # biip's \d accepts other scripts' digits; nothing else applies
    errors: list[str] = []
    if (number := _checked_number(ai, value)) is not None:
        try:
            validate_gs1_check_digit(number[1], what=number[0])
        except InvalidKeyError as exc:
            errors.append(f"AI ({ai}): {exc}")
    if ai in _DATE_AIS and element.date is None:
        errors.append(_date_error(element.ai, value))
    elif not errors and (problem := _format_problem(ai, value)) is not None:
        errors.append(problem)
    return errors


# Character sets of the GS1 Barcode Syntax Dictionary: N digits, X CSET 82 (the GS1
# subset of ISO/IEC 646), Y CSET 39, Z base64url (CSET 64, '=' padding allowed).
_DIGIT_CHARACTERS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: CSET 82 in the order of its values (the alphanumeric check character pair weighs them).
_CSET82_ORDER = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CHARSETS: dict[str, tuple[str, frozenset[str]]] = {
    "N": ("digits", frozenset(_DIGIT_CHARACTERS)),
    "X": ("GS1 CSET 82", frozenset(_CSET82_ORDER)),
    "Y": ("GS1 CSET 39", frozenset("#-/" + _DIGIT_CHARACTERS + _UPPER)),
    "Z": ("base64url", frozenset("-_=" + _DIGIT_CHARACTERS + _UPPER + _UPPER.lower())),
}
#: The longest value of an AI GS1 does not define, read when unknown AIs are permitted.
_UNKNOWN_AI_MAX_LENGTH = 90


def _format_spec(ai: str) -> str:
    """An AI's format as the syntax dictionary writes it, e.g. ``N1 N13 [X..16]``."""
    parts = []
    for c in FORMATS[ai].components:
        length = str(c.max_length) if c.min_length == c.max_length else f"..{c.max_length}"
        parts.append(f"[{c.charset}{length}]" if c.optional else f"{c.charset}{length}")
    return " ".join(parts)


def _in_range(digits: str, low: int, high: int) -> bool:
    return digits.isdigit() and low <= int(digits) <= high


def _real_date(digits: str, *, day_zero: bool) -> bool:
    """YYYYMMDD or YYMMDD (any century: the linter checks the calendar, not the window);
    with ``day_zero`` DD 00 stands for the month's last day."""
    year = int(digits[:-4]) if len(digits) == 8 else 2000 + int(digits[:2])
    month, day = int(digits[-4:-2]), int(digits[-2:])
    if not 1 <= month <= 12:
        return False
    return (day_zero and day == 0) or 1 <= day <= calendar.monthrange(year, month)[1]


#: Linters on a component's value alone: name -> (holds, what it requires).
_VALUE_LINTERS: dict[str, tuple[Callable[[str], bool], str]] = {
    "zero": (lambda v: v == "0" * len(v), "must be zero"),
    "nonzero": (lambda v: bool(v.strip("0")), "must not be zero"),
    "nozeroprefix": (lambda v: len(v) == 1 or not v.startswith("0"), "must not start with 0"),
    "hasnondigit": (lambda v: not v.isdigit(), "must contain a character that is not a digit"),
    "yesno": (lambda v: v in ("0", "1"), "must be 0 (no) or 1 (yes)"),
    "hyphen": (lambda v: v == "-", "must be '-'"),
    "winding": (lambda v: v in ("0", "1", "9"), "must be 0, 1 or 9 (winding direction)"),
    "mm": (lambda v: _in_range(v, 1, 12), "must be a month, 01 to 12"),
    "hh": (lambda v: _in_range(v, 0, 23), "must be an hour, 00 to 23"),
    "mi": (lambda v: _in_range(v, 0, 59), "must be minutes, 00 to 59"),
    "ss": (lambda v: _in_range(v, 0, 59), "must be seconds, 00 to 59"),
    # The General Specifications let (4324)/(4325) write an unknown time as 9999.
    "hhmi": (
        lambda v: v == "9999" or (_in_range(v[:2], 0, 23) and _in_range(v[2:], 0, 59)),
        "must be a time of day, HHMI (or 9999)",
    ),
    "yyyymmdd": (lambda v: _real_date(v, day_zero=False), "must be a real date, YYYYMMDD"),
    "yymmdd": (lambda v: _real_date(v, day_zero=False), "must be a real date, YYMMDD"),
    "yymmd0": (lambda v: _real_date(v, day_zero=True), "must be a real date, YYMMDD (DD 00: last day of month)"),
    "yyyymmd0": (lambda v: _real_date(v, day_zero=True), "must be a real date, YYYYMMDD (DD 00: last day of month)"),
    "pieceoftotal": (
        lambda v: len(v) % 2 == 0 and 0 < int(v[: len(v) // 2] or 0) <= int(v[len(v) // 2 :] or 0),
        "must be a piece number of a total, neither zero, the piece not above the total",
    ),
}


# The linters below follow the GS1 Barcode Syntax Engine's definitions (src/c-lib/syntax/
# lint_*.c of gs1/gs1-syntax-engine); each problem names its linter, so an error says which
# rule of the syntax dictionary the value breaks.

#: CSET 32, the check characters of GS1's alphanumeric keys (General Specifications,
#: "Check character calculation (for alphanumeric keys)"); CSET 82 values are positions in
#: ``_CSET82_ORDER``.
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@cache
def _primes(count: int) -> tuple[int, ...]:
    """The first ``count`` primes: 2, 3, 5, ..."""
    primes: list[int] = []
    candidate = 2
    while len(primes) < count:
        if all(candidate % p for p in primes if p * p <= candidate):
            primes.append(candidate)
        candidate += 1
    return tuple(primes)


def gs1_check_character_pair(data: str) -> str:
    """The check character pair GS1 appends to an alphanumeric key (the GMN of AI (8013),
    the Basic UDI-DI of the EU MDR): data characters weighted by primes from the right,
    summed modulo 1021, the 10 bits written as two CSET 32 characters.

    >>> gs1_check_character_pair("1987654Ad4X4bL5ttr2310c")
    '2K'
    """
    if (bad := next((c for c in data if c not in _CSET82_ORDER), None)) is not None:
        raise InvalidKeyError(f"{bad!r} is not in GS1 CSET 82")
    weights = _primes(len(data))
    total = sum(_CSET82_ORDER.index(c) * w for c, w in zip(reversed(data), weights, strict=True)) % 1021
    return _CSET32[total >> 5] + _CSET32[total & 31]


def _csumalpha_problem(value: str) -> str | None:
    if len(value) < 2:
        return "too short for its check character pair (csumalpha)"
    data, pair = value[:-2], value[-2:]
    if (bad := next((c for c in pair if c not in _CSET32), None)) is not None:
        return f"check character {bad!r} is not in GS1 CSET 32 (csumalpha)"
    try:
        expected = gs1_check_character_pair(data)
    except InvalidKeyError as exc:
        return f"{exc} (csumalpha)"
    return None if pair == expected else f"check character pair is {pair!r}, expected {expected!r} (csumalpha)"


@cache
def _iso3166_numeric() -> frozenset[str]:
    return frozenset(country.numeric for country in pycountry.countries)


@cache
def _iso3166_alpha2() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _iso4217_numeric() -> frozenset[str]:
    return frozenset(currency.numeric for currency in pycountry.currencies)


def _in_code_list(codes: Callable[[], frozenset[str]], requirement: str) -> Callable[[str], str | None]:
    return lambda value: None if value in codes() else f"{value!r} {requirement}"


_IBAN_CHARACTERS = frozenset(_DIGIT_CHARACTERS + _UPPER)


def _iban_problem(value: str) -> str | None:
    """ISO 13616: a country code, two check digits (ISO 7064 mod 97-10), the account."""
    if len(value) < 4:
        return f"{value!r} is too short for an IBAN (iban)"
    if value[:2] not in _iso3166_alpha2():
        return f"{value[:2]!r} is not an ISO 3166 alpha-2 country code, as an IBAN begins (iban)"
    if not 10 < len(value) <= 34:
        return f"an IBAN has 11 to 34 characters, got {len(value)} (iban)"
    if (bad := next((c for c in value if c not in _IBAN_CHARACTERS), None)) is not None:
        return f"{bad!r} may not appear in an IBAN: digits and capital letters only (iban)"
    if not mod_97_10.is_valid(value[4:] + value[:4]):
        return f"IBAN check digits {value[2:4]!r} do not match the account (ISO 7064 mod 97-10) (iban)"
    return None


_POSITION_IN_SEQUENCE = re.compile(r"([0-9]+)/([0-9]+)")


def _posinseqslash_problem(value: str) -> str | None:
    match = _POSITION_IN_SEQUENCE.fullmatch(value)
    if match is None:
        return f"{value!r} must be a position in a sequence, {{position}}/{{last}} (posinseqslash)"
    position, last = match.groups()
    if position.startswith("0") or last.startswith("0"):
        return f"{value!r}: neither number may be zero or start with 0 (posinseqslash)"
    if int(position) > int(last):
        return f"{value!r}: position {position} is beyond the last, {last} (posinseqslash)"
    return None


_PERCENT_ESCAPE_BROKEN = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _pcenc_problem(value: str) -> str | None:
    bad = _PERCENT_ESCAPE_BROKEN.search(value)
    if bad is None:
        return None
    return f"{value[bad.start() : bad.start() + 3]!r} is not a percent-encoded byte, %{{hex}}{{hex}} (pcenc)"


_IMPORTER_INDEX_CHARACTERS = frozenset("-_" + _DIGIT_CHARACTERS + _UPPER + _UPPER.lower())


def _mediatype(value: str) -> bool:
    """AIDC media types (General Specifications): 01-10 ICCBBA, 80-99 national use."""
    return _in_range(value, 1, 10) or _in_range(value, 80, 99)


#: Linters of any character set, each giving its own problem: name -> check.
_RULE_LINTERS: dict[str, Callable[[str], str | None]] = {
    "csumalpha": _csumalpha_problem,
    "iso3166": _in_code_list(_iso3166_numeric, "is not an ISO 3166-1 numeric country code (iso3166)"),
    "iso3166999": lambda v: (
        None
        if v == "999"
        else _in_code_list(_iso3166_numeric, "is not an ISO 3166-1 numeric country code or 999 (iso3166999)")(v)
    ),
    "iso3166alpha2": _in_code_list(_iso3166_alpha2, "is not an ISO 3166-1 alpha-2 country code (iso3166alpha2)"),
    "iso4217": _in_code_list(_iso4217_numeric, "is not an ISO 4217 numeric currency code (iso4217)"),
    "iso5218": lambda v: (
        None if v in ("0", "1", "2", "9") else f"{v!r} is not an ISO/IEC 5218 sex code, 0, 1, 2 or 9 (iso5218)"
    ),
    "pcenc": _pcenc_problem,
    "latitude": lambda v: (
        None if _in_range(v, 0, 1_800_000_000) else f"{v!r} is not a latitude, 0000000000 to 1800000000 (latitude)"
    ),
    "longitude": lambda v: (
        None if _in_range(v, 0, 3_600_000_000) else f"{v!r} is not a longitude, 0000000000 to 3600000000 (longitude)"
    ),
    "posinseqslash": _posinseqslash_problem,
    "iban": _iban_problem,
    "importeridx": lambda v: (
        None
        if len(v) == 1 and v in _IMPORTER_INDEX_CHARACTERS
        else f"{v!r} is not an importer index: one of 0-9, A-Z, a-z, '-' or '_' (importeridx)"
    ),
    "mediatype": lambda v: None if _mediatype(v) else f"{v!r} is not an AIDC media type, 01-10 or 80-99 (mediatype)",
}

#: Dictionary linters checked here.
CHECKED_LINTERS = frozenset({"csum", *_VALUE_LINTERS, *_RULE_LINTERS})
#: Dictionary linters not checked: they need GS1's company-prefix table (gcppos1, gcppos2)
#: or code lists GS1 maintains outside the dictionary (packagetype, and the North American
#: coupon linters).
UNCHECKED_LINTERS = frozenset({"gcppos1", "gcppos2", "packagetype", "couponcode", "couponposoffer"})


def _linter_problem(linter: str, part: str, component: AiComponent) -> str | None:
    """What the syntax dictionary linter ``linter`` finds wrong with ``part``, or None
    (also for the linters in :data:`UNCHECKED_LINTERS`)."""
    if linter == "csum":
        try:
            validate_gs1_check_digit(part, what="number")
        except InvalidKeyError as exc:
            return str(exc)
        return None
    if (rule := _RULE_LINTERS.get(linter)) is not None:
        return rule(part)
    check = _VALUE_LINTERS.get(linter)
    if check is None or (component.charset != "N" and linter not in ("hyphen", "hasnondigit")):
        return None
    holds, requirement = check
    return None if holds(part) else f"{part!r} {requirement}"


def _format_problem(ai: str, value: str) -> str | None:
    """Why ``value`` breaks the format of ``ai`` in the GS1 Barcode Syntax Dictionary
    (length, character set, and the linters of each component), or None."""
    spec = FORMATS.get(ai)
    if spec is None:
        return None
    position = 0
    problem: str | None = None
    for component in spec.components:
        if position >= len(value):
            if not component.optional:
                problem = "too short"
            break
        part = value[position : position + component.max_length]
        name, characters = _CHARSETS[component.charset]
        if len(part) < component.min_length:
            problem = "too short"
        elif (bad := next((c for c in part if c not in characters), None)) is not None:
            problem = f"{bad!r} is not in {name}"
        else:
            problem = next((p for linter in component.linters if (p := _linter_problem(linter, part, component))), None)
        if problem is not None:
            break
        position += len(part)
    if problem is None and position < len(value):
        problem = "too long"
    if problem is None:
        return None
    return f"AI ({ai}) value {value!r} does not match its format {_format_spec(ai)}: {problem}"


def _dictionary_element(ai: GS1ApplicationIdentifier, value: str) -> GS1ElementString | None:
    """An element string biip refuses but the GS1 Barcode Syntax Dictionary allows (biip's
    patterns are stricter for a few AIs, e.g. (8010) wants 5 characters, GS1 1 to 30)."""
    if ai.ai in _DATE_AIS or not value or _format_problem(ai.ai, value) is not None:
        return None
    return GS1ElementString(ai=ai, value=value, pattern_groups=[value])


def _unknown_element(ai: str, value: str) -> GS1ElementString:
    """An AI GS1 does not define, read (when permitted) as GS1's syntax engine reads one:
    up to 90 characters of CSET 82."""
    name, characters = _CHARSETS["X"]
    if len(value) > _UNKNOWN_AI_MAX_LENGTH or any(c not in characters for c in value):
        raise InvalidKeyError(
            f"AI ({ai}) is not defined by GS1, and its value {value!r} is not 1 to {_UNKNOWN_AI_MAX_LENGTH} "
            f"characters of {name}"
        )
    unknown = GS1ApplicationIdentifier(
        ai=ai,
        description="Unknown Application Identifier",
        data_title="UNKNOWN",
        separator_required=True,
        format=f"N{len(ai)}+X..{_UNKNOWN_AI_MAX_LENGTH}",
        pattern=rf"^{ai}(.{{1,{_UNKNOWN_AI_MAX_LENGTH}}})$",
    )
    return GS1ElementString(ai=unknown, value=value, pattern_groups=[value])


def _unknown_ai_warning(ai: str) -> str:
    return f"AI ({ai}) is not defined by GS1; read as up to 90 characters of CSET 82 (unknown AIs permitted)"


def _date_error(ai: GS1ApplicationIdentifier, value: str) -> str:
    return (
        f"AI ({ai.ai}) {ai.data_title.lower()} {value!r} is not a valid date "
        "(YYMMDD; DD 00 means the last day of the month)"
    )


def _quantity(elements: dict[str, str]) -> int | None:
    # (30) counts items in a variable-quantity trade item, (37) trade items in a pallet.
    for ai in ("30", "37"):
        if elements.get(ai):
            return int(elements[ai])
    return None


def _excludes(pattern: str, ai: str) -> bool:
    """Whether ``ai`` matches an exclusion pattern, in which ``n`` is any digit."""
    return len(pattern) == len(ai) and all(
        p == a or (p == "n" and a.isdigit()) for p, a in zip(pattern, ai, strict=True)
    )


def _exclusion_errors(ais: Sequence[str]) -> list[str]:
    """AIs that GS1 forbids together, e.g. (01) with (02), (21) with (235) (the syntax
    dictionary's ``ex=``)."""
    errors: list[str] = []
    reported: set[frozenset[str]] = set()
    for ai in ais:
        for other in ais:
            pair = frozenset((ai, other))
            if other != ai and pair not in reported and any(_excludes(p, other) for p in EXCLUSIONS.get(ai, ())):
                reported.add(pair)
                errors.append(f"AI ({ai}) and AI ({other}) may not appear together (GS1 mutually exclusive AIs)")
    return errors


def _present(pattern: str, ais: Sequence[str]) -> bool:
    return any(_excludes(pattern, ai) for ai in ais)


def _requisite_errors(ais: Sequence[str]) -> list[str]:
    """AIs whose GS1 requisites are missing, e.g. (21) without (01), (03) or (8006)
    (the syntax dictionary's ``req=``). GS1 judges requisites over all the symbols of one
    label: a label's second symbol alone, ``(10)…(21)…``, lacks its (01), so scan the
    symbols together (one per line) to read them as one label."""
    errors: list[str] = []
    for ai in ais:
        for rule in REQUISITES.get(ai, ()):
            alternatives = [group.split("+") for group in rule.split(",")]
            if not any(all(_present(p, ais) for p in group) for group in alternatives):
                wanted = " or ".join("".join(f"({p})" for p in group) for group in alternatives)
                errors.append(
                    f"{REQUISITE_MISSING}: AI ({ai}) needs {wanted} with it "
                    "(give all the GS1 symbols of a label, one per line)"
                )
    return errors


#: Keys that (8030) DIGSIG must sign with their optional serial component present
#: (the GS1 syntax engine's DIGSIG linter): AI -> length without the serial.
_DIGSIG_SERIALISED = {"253": 13, "255": 13, "8003": 14}


def _digsig_errors(elements: dict[str, str]) -> list[str]:
    if "8030" not in elements:
        return []
    return [
        f"AI (8030) digital signature needs a serialised AI ({ai}): its serial component is missing"
        for ai, length in _DIGSIG_SERIALISED.items()
        if ai in elements and len(elements[ai]) <= length
    ]


def _gs1_result(
    element_strings: Sequence[GS1ElementString], *, errors: Sequence[str] = (), warnings: Sequence[str] = ()
) -> UdiParse:
    """Validate parsed element strings and describe what they say; ``errors`` are
    problems the caller found already (e.g. in a Digital Link query), ``warnings``
    assumptions it made."""
    errors = list(errors)
    elements: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    for element in element_strings:
        errors.extend(_element_errors(element))
        ai = element.ai.ai
        first = elements.setdefault(ai, element.value)
        if first != element.value:
            errors.append(f"AI ({ai}) appears twice with different values: {first!r} and {element.value!r}")
        dates.setdefault(ai, element.date)
    if not elements:
        errors.append("no GS1 element strings in the data")
    errors.extend(_exclusion_errors(list(elements)))
    errors.extend(_requisite_errors(list(elements)))
    errors.extend(_digsig_errors(elements))
    key = None
    if not errors:
        try:
            key = gs1_key(elements)
        except (InvalidKeyError, UnsupportedFormatError):
            key = None  # valid data that names no single thing (see gs1_key)
    gtin = elements.get("01")
    return UdiParse(
        valid=not errors,
        issuer="GS1",
        gtin=gtin,
        di=gtin,
        lot=elements.get(LOT_AI),
        serial=elements.get(SERIAL_AI),
        expiry=_iso(dates.get("17")),
        manufactured=_iso(dates.get("11")),
        quantity=_quantity(elements),
        key=key,
        errors=errors,
        warnings=list(dict.fromkeys(warnings)),
        elements=elements,
    )


def _extract_error(rest: str, position: int) -> str:
    """Say why no element string could be read at ``position`` (``rest`` onwards)."""
    try:
        ai = GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        return f"no GS1 Application Identifier at position {position}: {rest[:12]!r}"
    value = rest[len(ai.ai) :].split(GS, 1)[0]
    if ai.ai in _DATE_AIS:
        return _date_error(ai, value[:6] if not ai.separator_required else value)
    return f"AI ({ai.ai}) at position {position}: {value!r} does not match its format {ai.format}"


def _read_element_strings(data: str) -> list[GS1ElementString]:
    """biip's GS1Message.parse, one element string at a time, so an error can say where.

    A variable-length AI's value runs to the next GS or the end of the data (GS1 General
    Specifications 7.8.6). biip cuts a value at its maximum length instead, so what
    follows could pass for another AI, e.g. a serial number: that is refused here.
    """
    elements: list[GS1ElementString] = []
    position = 0
    while position < len(data):
        rest = data[position:]
        try:
            element = GS1ElementString.extract(rest, config=_GS1_CONFIG)
        except ParseError as exc:
            fallback = _dictionary_extract(rest)
            if fallback is None:
                raise InvalidKeyError(_extract_error(rest, position)) from exc
            element = fallback
        elements.append(element)
        position += len(element)
        if position < len(data) and not data.startswith(GS, position) and element.ai.separator_required:
            raise InvalidKeyError(
                f"AI ({element.ai.ai}) value {element.value!r} runs on into {data[position : position + 8]!r} "
                f"at position {position}: it is longer than {element.ai.format} allows, or the GS (FNC1) "
                "that must end a variable-length value is missing"
            )
        while data.startswith(GS, position):
            position += 1
    return elements


def _dictionary_extract(data: str) -> GS1ElementString | None:
    """The element string at the start of ``data`` as the syntax dictionary reads it, when
    biip's pattern refuses a value the dictionary allows; a variable-length value runs to
    the next GS or the end."""
    try:
        ai = GS1ApplicationIdentifier.extract(data)
    except ParseError:
        return None
    spec = FORMATS.get(ai.ai)
    if spec is None:
        return None
    rest = data[len(ai.ai) :]
    fixed = sum(c.max_length for c in spec.components)
    return _dictionary_element(ai, rest[:fixed] if spec.fixed_length else rest.split(GS, 1)[0])


def _parse_element_string(data: str) -> UdiParse:
    """A raw GS1 element string: AIs and values, variable-length ones ended by GS."""
    if (problem := _non_ascii(data, "GS1 data")) is not None:
        return _invalid("GS1", problem)
    data = data.strip()  # whitespace, and GS (FNC1) in first or last position
    if not data:
        return _invalid("GS1", "no GS1 element strings in the data")
    try:
        standard = _gs1_result(_read_element_strings(data))
    except InvalidKeyError as exc:
        standard = _invalid("GS1", f"GS1 element string: {exc}")
    return _missing_separator_readings(data, standard)


#: Date AIs (YYMMDD) that labels often print straight after a lot or serial with no GS
#: (FNC1) between them, a common fault on labels printed for the Chinese market.
_RUN_ON_DATE_AIS = frozenset({"11", "13", "15", "16", "17"})
_MAX_READINGS = 16
_MAX_STEPS = 2000


def _valid_yymmdd(digits: str) -> bool:
    if len(digits) != 6 or not digits.isdigit():
        return False
    try:
        return GS1ElementString.parse("17" + digits, config=_GS1_CONFIG).date is not None
    except ParseError:
        return False


def _skip_separators(data: str, position: int) -> int:
    while data.startswith(GS, position):
        position += 1
    return position


def _split_readings(data: str) -> list[list[GS1ElementString]]:
    """Every reading of ``data`` in which a variable-length value ends, as GS1 says, at
    a GS or the end of the data, or else (no GS) just before a date AI with a real date."""
    readings: list[list[GS1ElementString]] = []
    budget = [_MAX_STEPS]  # bounds the search on adversarial data

    def walk(position: int, elements: list[GS1ElementString]) -> None:
        budget[0] -= 1
        if len(readings) >= _MAX_READINGS or budget[0] < 0:
            return
        if position >= len(data):
            readings.append(elements)
            return
        rest = data[position:]
        try:
            element = GS1ElementString.extract(rest, config=_GS1_CONFIG)
        except ParseError:
            return
        if not element.ai.separator_required:
            walk(_skip_separators(data, position + len(element)), [*elements, element])
            return
        ai = element.ai.ai
        segment = rest[len(ai) :].split(GS, 1)[0]
        for cut in range(1, len(segment) - 7):
            if segment[cut : cut + 2] in _RUN_ON_DATE_AIS and _valid_yymmdd(segment[cut + 2 : cut + 8]):
                try:
                    short = GS1ElementString.parse(ai + segment[:cut], config=_GS1_CONFIG)
                except ParseError:
                    continue
                walk(position + len(ai) + cut, [*elements, short])
        try:
            whole = GS1ElementString.parse(ai + segment, config=_GS1_CONFIG)
        except ParseError:
            return
        walk(_skip_separators(data, position + len(ai) + len(segment)), [*elements, whole])

    walk(0, [])
    return readings


def _hri(elements: dict[str, str]) -> str:
    return "".join(f"({ai}){value}" for ai, value in elements.items())


def _missing_separator_readings(data: str, standard: UdiParse) -> UdiParse:
    """Look for a variable-length value (a lot, say) run into a following date AI with
    no GS between them, and say so instead of guessing.

    Every reading the AI rules allow is tried (lot length, date, check digits, AI
    associations), GS1's own reading (the value runs to a GS or the end) among them. One
    valid reading is taken; if it is not GS1's own, with a warning. Several valid
    readings make the barcode ambiguous: it is refused, and every reading is listed."""
    if GS in data:
        return standard  # the encoder wrote separators: take it at its word
    valid = [standard] if standard.valid else []
    for reading in _split_readings(data):
        parsed = _gs1_result(reading)
        if parsed.valid and all(parsed.elements != v.elements for v in valid):
            valid.append(parsed)
    if not valid or valid == [standard]:
        return standard
    readings = [v.elements for v in valid]
    listed = "; ".join(_hri(r) for r in readings)
    if len(valid) == 1:
        return valid[0].model_copy(
            update={
                "warnings": [
                    "a variable-length value runs into a date AI with no GS (FNC1) before it; the only "
                    f"reading the GS1 AI rules allow is {listed}"
                ],
                "readings": readings,
            }
        )
    return standard.model_copy(
        update={
            "valid": False,
            "key": None,
            "errors": [
                "ambiguous GS1 data: a variable-length value is not ended by a GS (FNC1) before a date AI, "
                f"and {len(valid)} readings are valid: {listed}; check the printed label"
            ],
            "readings": readings,
        }
    )


def _parse_bare_gtin(data: str) -> UdiParse:
    """A GTIN as an EAN/UPC or ITF-14 symbol carries it: digits only, no AI."""
    try:
        gtin = normalise_gtin(data)
    except InvalidKeyError as exc:
        return _invalid("GS1", str(exc))
    return _gs1_result([GS1ElementString.parse(f"01{gtin}", config=_GS1_CONFIG)])


#: How many digits an SSCC has: 18 bare digits are read as one (AI (00) left out).
_SSCC_LENGTH = 18
BARE_SSCC_WARNING = (
    "18 bare digits read as an SSCC, AI (00), without its AI (as a WMS export or a typed pallet "
    "number gives it); write (00)… to say so"
)


def _parse_bare_sscc(data: str) -> UdiParse:
    """18 digits with no AI, as warehouse systems export a pallet number: read as the SSCC
    they are if the GS1 check digit holds, with a warning that the AI was assumed."""
    try:
        validate_gs1_check_digit(data, what="SSCC")
    except InvalidKeyError as exc:
        return _invalid("GS1", f"18 bare digits are read as an SSCC without its AI (00), and {exc}")
    return _gs1_result([GS1ElementString.parse(f"00{data}", config=_GS1_CONFIG)], warnings=[BARE_SSCC_WARNING])


def _parse_raw_gs1(data: str) -> UdiParse:
    """Digits without a symbology identifier: a bare GTIN (8, 12, 13 or 14 digits) or SSCC
    (18 digits) if its check digit holds, else an element string."""
    if data.isascii() and data.isdigit() and len(data) == _SSCC_LENGTH:
        as_sscc = _parse_bare_sscc(data)
        as_message = _parse_element_string(data)
        if as_sscc.valid and as_message.valid:
            readings = [as_sscc.elements, as_message.elements]
            return as_message.model_copy(
                update={
                    "valid": False,
                    "key": None,
                    "errors": [
                        f"ambiguous GS1 data: 18 bare digits read both as an SSCC without its AI (00) and as "
                        f"the element string {_hri(as_message.elements)}; write the AIs, e.g. (00){data}"
                    ],
                    "readings": readings,
                }
            )
        if as_sscc.valid:
            return as_sscc
        if as_message.valid or all(e.startswith(REQUISITE_MISSING) for e in as_message.errors):
            return as_message  # well-formed element strings, if lacking their requisites
        return as_sscc
    if data.isascii() and data.isdigit() and len(data) in (8, 12, 13, 14):
        as_gtin = _parse_bare_gtin(data)
        if as_gtin.valid:
            return as_gtin
        as_message = _parse_element_string(data)
        if as_message.valid or all(e.startswith(REQUISITE_MISSING) for e in as_message.errors):
            return as_message  # well-formed element strings, if lacking their requisites
        return as_gtin
    return _parse_element_string(data)


def _hri_pairs(data: str) -> list[tuple[str, str]]:
    """Split ``(01)…(10)…`` into (AI, value) pairs; ``\\(`` is a literal bracket."""
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(data):
        if data[position] != "(":
            raise InvalidKeyError(f"bracketed GS1 data must start each AI with '(' (position {position})")
        close = data.find(")", position)
        if close < 0:
            raise InvalidKeyError(f"AI at position {position} has no closing ')'")
        ai = data[position + 1 : close]
        if not (ai.isascii() and ai.isdigit() and 2 <= len(ai) <= 4):
            raise InvalidKeyError(f"({ai}) is not an AI: AIs are 2 to 4 digits")
        value, position = _hri_value(data, close + 1)
        value = value.strip()  # spaces around HRI values are layout, never data
        if not value:
            raise InvalidKeyError(f"AI ({ai}) has an empty value")
        pairs.append((ai, value))
    return pairs


def _hri_value(data: str, start: int) -> tuple[str, int]:
    """Read an HRI value up to the next unescaped '(' (or the end)."""
    value: list[str] = []
    position = start
    while position < len(data) and data[position] != "(":
        if data[position] == "\\" and data[position + 1 : position + 2] == "(":
            position += 1
        value.append(data[position])
        position += 1
    return "".join(value), position


def _known_ai(ai: str) -> GS1ApplicationIdentifier | None:
    try:
        known = GS1ApplicationIdentifier.extract(ai)
    except ParseError:
        return None
    return known if known.ai == ai else None


def _hri_element(ai: str, value: str, settings: Gs1Settings, warnings: list[str]) -> list[GS1ElementString]:
    """The element string(s) of one bracketed AI and its value. Two lenient readings, each
    with a warning, of faults seen on printed labels where only one reading exists: a
    13-digit (01) whose GTIN-13 check digit holds, and a fixed-length value run on into
    an AI printed without brackets (``(01){14 digits}10LOT``)."""
    known = _known_ai(ai)
    if known is None:
        if settings.permit_unknown_ais:
            warnings.append(_unknown_ai_warning(ai))
            return [_unknown_element(ai, value)]
        raise InvalidKeyError(f"({ai}) is not a GS1 Application Identifier")
    if ai == "01" and len(value) == 13 and _is_gtin(value):
        warnings.append(f"AI (01) {value} has 13 digits: read as the GTIN-13 it is, zero-padded to GTIN-14")
        value = value.zfill(14)
    spec = FORMATS.get(ai)
    if spec is not None and spec.fixed_length:
        length = sum(c.max_length for c in spec.components)
        if len(value) > length and (run_on := _run_on_elements(ai + value)) is not None:
            warnings.append(
                f"AI ({ai}) value {value!r} runs on past its {length} characters into "
                f"{_hri({e.ai.ai: e.value for e in run_on[1:]})}, an AI printed without brackets: read as such"
            )
            return run_on
    try:
        return [GS1ElementString.parse(ai + value, config=_GS1_CONFIG)]
    except ParseError as exc:
        if ai in _DATE_AIS:
            raise InvalidKeyError(_date_error(known, value)) from exc
        if (element := _dictionary_element(known, value)) is not None:
            return [element]
        raise InvalidKeyError(_format_problem(ai, value) or _pattern_problem(known, value)) from exc


def _pattern_problem(ai: GS1ApplicationIdentifier, value: str) -> str:
    return f"AI ({ai.ai}) value {value!r} does not match its format {ai.format}"


def _is_gtin(digits: str) -> bool:
    try:
        normalise_gtin(digits)
    except InvalidKeyError:
        return False
    return True


def _run_on_elements(data: str) -> list[GS1ElementString] | None:
    """A bracketed AI and its run-on value read as raw element strings, if that is their
    only reading: a lot run on into a date with no GS, say, has two, and is not guessed at
    here either. Requisites are judged later, over the whole label."""
    parsed = _parse_element_string(data)
    if parsed.readings and not parsed.valid:
        raise InvalidKeyError(parsed.errors[0])  # ambiguous: say so, listing the readings
    if parsed.readings or parsed.warnings or not all(e.startswith(REQUISITE_MISSING) for e in parsed.errors):
        return None
    return _read_element_strings(data)


def _parse_bracketed(data: str, settings: Gs1Settings = _DEFAULT_SETTINGS) -> UdiParse:
    """GS1 data as printed under a barcode: ``(01)09506000134352(17)250100(10)L1``."""
    if (problem := _non_ascii(data, "GS1 data")) is not None:
        return _invalid("GS1", problem)
    warnings: list[str] = []
    try:
        elements = [e for ai, value in _hri_pairs(data) for e in _hri_element(ai, value, settings, warnings)]
    except InvalidKeyError as exc:
        return _invalid("GS1", str(exc))
    return _gs1_result(elements, warnings=warnings)


#: The alphabetic path names ("convenience alphas") of GS1 Digital Link 1.0, withdrawn in
#: Digital Link 1.1 in favour of the numeric AIs; the table of GS1's syntax engine
#: (``src/c-lib/dl.c``, Apache-2.0). URIs printed under 1.0 still circulate, and the engine
#: reads them when told to, so they are read, with a warning.
DL_CONVENIENCE_NAMES: dict[str, str] = {
    "cpid": "8010",
    "cpsn": "8011",
    "cpv": "22",
    "gcn": "255",
    "gdti": "253",
    "giai": "8004",
    "ginc": "401",
    "gln": "414",
    "glnx": "254",
    "gmn": "8013",
    "grai": "8003",
    "gsin": "402",
    "gsrn": "8018",
    "gsrnp": "8017",
    "gtin": "01",
    "itip": "8006",
    "lot": "10",
    "party": "417",
    "refno": "8020",
    "ser": "21",
    "srin": "8019",
    "sscc": "00",
}


@dataclass(frozen=True)
class _DlCandidate:
    #: The key path: AI (or withdrawn name), value, AI, value … as written, undecoded.
    segments: tuple[str, ...]
    #: Withdrawn convenience names read in the key path, in order.
    names: tuple[str, ...]


def _dl_candidates(path: str, settings: Gs1Settings) -> tuple[list[_DlCandidate], list[str]]:
    """The key paths the URI path could hold, and refusals of withdrawn path names.

    The path may begin with any stem (``/some/stem/01/…``), whose segments may look like
    AIs themselves; the key path is the first cut that parses. In the key path, every
    other segment names an AI: a withdrawn convenience name there is replaced by its AI
    (when convenience alphas are permitted). A key path starting with such a name must run
    in name/value pairs to the end, so that a stem word (``/lot/01/…``) is not taken for a name."""
    segments = path.split("/")
    candidates, refusals = [], []
    for cut, segment in enumerate(segments):
        paired = (len(segments) - cut) % 2 == 0
        if not (_looks_like_ai(segment) or (segment in DL_CONVENIENCE_NAMES and paired)):
            continue
        key_path = segments[cut:]
        names = tuple(name for name in key_path[::2] if name in DL_CONVENIENCE_NAMES)
        if names and not settings.permit_convenience_alphas:
            refusals.append(
                f"Digital Link path name {names[0]!r} was withdrawn by GS1 (Digital Link 1.1) and convenience "
                f"alphas are not permitted; write AI ({DL_CONVENIENCE_NAMES[names[0]]})"
            )
            continue
        key_path[::2] = [DL_CONVENIENCE_NAMES.get(name, name) for name in key_path[::2]]
        candidates.append(_DlCandidate(tuple(key_path), names))
    return candidates, refusals


def _looks_like_ai(text: str) -> bool:
    return text.isascii() and text.isdigit() and 2 <= len(text) <= 4


def _valid_key_path(ais: Sequence[str]) -> bool:
    """Whether ``ais`` is a Digital Link primary key followed by key qualifiers it admits,
    in order (the syntax dictionary's ``dlpkey``)."""
    spec = FORMATS.get(ais[0]) if ais else None
    if spec is None or spec.dl_key_qualifiers is None:
        return False
    qualifiers = list(ais[1:])
    for sequence in spec.dl_key_qualifiers:
        remaining = iter(sequence)
        if len(set(qualifiers)) == len(qualifiers) and all(ai in remaining for ai in qualifiers):
            return True
    return False


def _element(ai: str, value: str) -> GS1ElementString:
    """One element string of a known AI, its value as biip or else the dictionary reads it."""
    known = _known_ai(ai)
    if known is None:
        raise InvalidKeyError(f"({ai}) is not a GS1 Application Identifier")
    try:
        return GS1ElementString.parse(ai + value, config=_GS1_CONFIG)
    except ParseError as exc:
        if ai in _DATE_AIS:
            raise InvalidKeyError(_date_error(known, value)) from exc
        if (element := _dictionary_element(known, value)) is not None:
            return element
        raise InvalidKeyError(_format_problem(ai, value) or _pattern_problem(known, value)) from exc


def _dl_gtin(value: str, settings: Gs1Settings) -> str:
    """A Digital Link (01): a GTIN-8/12/13 is zero-padded to 14 digits when permitted."""
    if len(value) in (8, 12, 13) and value.isascii() and value.isdigit():
        if not settings.permit_zero_suppressed_gtin_in_dl_uris:
            raise InvalidKeyError(
                f"AI (01) {value} in the Digital Link URI is a zero-suppressed GTIN-{len(value)}; a GTIN-14 is "
                "required (zero-suppressed GTINs not permitted)"
            )
        return value.zfill(14)
    return value


def _dl_path_elements(candidate: _DlCandidate, settings: Gs1Settings) -> list[GS1ElementString]:
    if len(candidate.segments) % 2:
        raise InvalidKeyError(f"Expected even number of path segments, got {'/' + '/'.join(candidate.segments)!r}")
    ais, values = candidate.segments[::2], [unquote(v) for v in candidate.segments[1::2]]
    if not _valid_key_path(ais):
        if FORMATS.get(ais[0], None) is None or FORMATS[ais[0]].dl_key_qualifiers is None:
            raise InvalidKeyError(f"({ais[0]}) is not a GS1 Digital Link primary key")
        raise InvalidKeyError(
            f"the Digital Link path {'/'.join(ais)} is not a primary key followed by its key qualifiers in order"
        )
    elements = []
    for ai, value in zip(ais, values, strict=True):
        if not value:
            raise InvalidKeyError(f"AI ({ai}) has an empty value in the Digital Link path")
        elements.append(_element(ai, _dl_gtin(value, settings) if ai == "01" else value))
    return elements


def _dl_query_elements(
    query: str, path_ais: Sequence[str], settings: Gs1Settings, warnings: list[str]
) -> tuple[list[GS1ElementString], list[str]]:
    """The data attributes of the query, and what is wrong with them: a query AI must be
    an AI, have a value, appear once, be permitted as a data attribute and not be a key
    qualifier that belongs in the path (GS1 Digital Link URI syntax, as GS1's syntax engine
    checks it). Other query parameters are allowed, and ignored."""
    elements: list[GS1ElementString] = []
    errors: list[str] = []
    seen = set(path_ais)
    for name, value in parse_qsl(query, keep_blank_values=True):
        if not _looks_like_ai(name):
            continue
        known = _known_ai(name)
        if known is None and not settings.permit_unknown_ais:
            errors.append(f"({name}) in the Digital Link query is not a GS1 Application Identifier")
        elif known is None and settings.validate_unknown_ai_not_dl_attr:
            errors.append(f"AI ({name}) is not defined by GS1 and may not be a Digital Link data attribute")
        elif not value:
            errors.append(f"AI ({name}) has an empty value in the Digital Link query")
        elif name in seen:
            errors.append(f"AI ({name}) appears more than once in the Digital Link URI")
        elif known is not None and not FORMATS[name].dl_attribute:
            errors.append(f"AI ({name}) is not a GS1 Digital Link data attribute")
        elif any(_valid_key_path([*path_ais[:j], name, *path_ais[j:]]) for j in range(1, len(path_ais) + 1)):
            errors.append(f"AI ({name}) qualifies ({path_ais[0]}) and belongs in the URI path, not the query")
        else:
            try:
                if known is None:
                    elements.append(_unknown_element(name, value))
                    warnings.append(_unknown_ai_warning(name))
                else:
                    elements.append(_element(name, _dl_gtin(value, settings) if name == "01" else value))
            except InvalidKeyError as exc:
                errors.append(str(exc))
        seen.add(name)
    return elements, errors


def _parse_digital_link(data: str, settings: Gs1Settings = _DEFAULT_SETTINGS) -> UdiParse:
    """A GS1 Digital Link URI on any host, with any path stem, query and fragment."""
    if (problem := _non_ascii(data, "a Digital Link URI")) is not None:
        return _invalid("GS1", problem)
    scheme = data.split("://", 1)[0]
    if scheme not in _DL_SCHEMES:
        return _invalid(None, f"{NOT_GS1_DATA}: a Digital Link URI scheme is http or https in one case, not {scheme!r}")
    try:
        parts = urlsplit(data)
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as exc:
        return _invalid("GS1", f"not a valid URI: {exc}")
    if not parts.hostname:
        return _invalid("GS1", f"Digital Link URI {data!r} has no host")
    if bad := sorted(set(parts.netloc) & _DL_BAD_HOST_CHARACTERS):
        return _invalid("GS1", f"Digital Link URI host {parts.netloc!r} contains {''.join(bad)!r}")
    candidates, refusals = _dl_candidates(parts.path, settings)
    first_error = refusals[0] if refusals else None
    for candidate in candidates:
        try:
            path_elements = _dl_path_elements(candidate, settings)
        except InvalidKeyError as exc:
            first_error = first_error or str(exc)
            continue
        warnings = [
            f"Digital Link path name {name!r} was withdrawn by GS1 (Digital Link 1.1); "
            f"read as AI ({DL_CONVENIENCE_NAMES[name]})"
            for name in candidate.names
        ]
        path_ais = [element.ai.ai for element in path_elements]
        query_elements, errors = _dl_query_elements(parts.query, path_ais, settings, warnings)
        return _gs1_result([*path_elements, *query_elements], errors=errors, warnings=warnings)
    return _invalid(
        "GS1", f"GS1 Digital Link: {first_error or f'Expected a primary identifier in the path, got {parts.path!r}'}"
    )


def gs1_digital_link_uri(
    elements: Mapping[str, str], *, base: str, validate_unknown_ai_not_dl_attr: bool = True
) -> str:
    """The GS1 Digital Link URI of GS1 element strings (AI -> value, in the order read).

    As GS1 Digital Link URI syntax 1.1 (and GS1's syntax engine) writes it: the first AI
    that is a primary key, then, in the path, the key qualifiers present of the sequence
    that matches most of them, in that sequence's order; every other AI is a data
    attribute in the query, those of predefined length first, each group in the order
    read. Raises :class:`InvalidKeyError` when there is no primary key, or an AI may not
    be a data attribute (e.g. (8200), or an AI GS1 does not define).

    >>> gs1_digital_link_uri({"01": "09506000134352", "17": "250101", "10": "L 1"}, base="https://id.gs1.org")
    'https://id.gs1.org/01/09506000134352/10/L%201?17=250101'
    """
    primary = next((ai for ai in elements if ai in FORMATS and FORMATS[ai].dl_key_qualifiers is not None), None)
    if primary is None:
        found = ", ".join(f"({ai})" for ai in elements) or "none"
        raise InvalidKeyError(f"no GS1 Digital Link primary key among the AIs ({found})")
    sequences = FORMATS[primary].dl_key_qualifiers or ((),)
    best = max(sequences, key=lambda sequence: sum(ai in elements for ai in sequence))  # first of the best
    path = [primary, *(ai for ai in best if ai in elements)]
    attributes = [ai for ai in elements if ai not in path]
    for ai in attributes:
        spec = FORMATS.get(ai)
        if spec is None and validate_unknown_ai_not_dl_attr:
            raise InvalidKeyError(f"AI ({ai}) is not defined by GS1 and may not be a Digital Link data attribute")
        if spec is not None and not spec.dl_attribute:
            raise InvalidKeyError(f"AI ({ai}) is not a GS1 Digital Link data attribute")
    attributes.sort(key=lambda ai: not (ai in FORMATS and FORMATS[ai].fixed_length))  # stable: order kept
    uri = base.rstrip("/") + "".join(f"/{ai}/{quote(elements[ai], safe='')}" for ai in path)
    query = "&".join(f"{ai}={quote_plus(elements[ai], safe='')}" for ai in attributes)
    return f"{uri}?{query}" if query else uri


# ------------------------------------------------------------------------------ HIBCC

#: Code 39's 43 characters, in the order whose index is their mod-43 value.
_HIBC_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
_HIBC_PRIMARY = re.compile(r"(?P<lic>[A-Z][A-Z0-9]{3})(?P<product>[A-Z0-9]{1,18})(?P<unit>.)")

#: ``$$`` date flags: flag -> (format, digits). 0 and 1 start an MMYY month instead.
_HIBC_DATE_FLAGS: dict[str, tuple[str, int]] = {
    "2": ("MMDDYY", 6),
    "3": ("YYMMDD", 6),
    "4": ("YYMMDDHH", 8),
    "5": ("YYJJJ", 5),
    "6": ("YYJJJHH", 7),
}
#: ``$$`` quantity flags: flag -> digits of quantity (a date flag follows).
_HIBC_QUANTITY_FLAGS = {"8": 2, "9": 5}


def hibc_check_character(data: str) -> str:
    """The HIBCC mod-43 check (or link) character of ``data``, '+' flag included.

    >>> hibc_check_character("+A99912345/$$52001510X3/16D20111212/S77DEFG45")
    '7'
    """
    total = 0
    for position, character in enumerate(data):
        value = _HIBC_CHARACTERS.find(character)
        if value < 0:
            raise InvalidKeyError(
                f"{character!r} at position {position} is not in the HIBCC character set (0-9, A-Z, - . space $ / + %)"
            )
        total += value
    return _HIBC_CHARACTERS[total % 43]


@dataclass
class _Hibc:
    """Fields read from HIBCC data, filled in as the parse goes."""

    lic: str | None = None
    product_code: str | None = None
    unit: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    manufactured: date | None = None
    quantity: int | None = None
    check: str | None = None
    link: str | None = None
    elements: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def di(self) -> str | None:
        if self.lic is None or self.product_code is None or self.unit is None:
            return None
        return f"{self.lic}{self.product_code}{self.unit}"

    def set_once(self, name: str, value: object, raw: str) -> None:
        """Set a field that a barcode may state only once (serial twice is an error)."""
        current = getattr(self, name)
        if current is not None and current != value:
            raise InvalidKeyError(f"HIBCC {name} given twice: {current!r} and {value!r}")
        setattr(self, name, value)
        self.elements[name] = raw


def _date_layout(layout: str) -> re.Pattern[str]:
    """``"YYMMDD"`` -> a pattern with a named group of digits per unit."""
    units = re.findall(r"YYYY|YY|MM|DD|JJJ|HH", layout)
    return re.compile("".join(f"(?P<{unit}>[0-9]{{{len(unit)}}})" for unit in units))


_HIBC_DATE_LAYOUTS = {
    layout: _date_layout(layout) for layout in ("MMYY", "MMDDYY", "YYMMDD", "YYMMDDHH", "YYJJJ", "YYJJJHH", "YYYYMMDD")
}


def _hibc_date(digits: str, layout: str) -> date:
    """A HIBCC date in one of its layouts; two-digit years are 20YY, MMYY is month end."""
    match = _HIBC_DATE_LAYOUTS[layout].fullmatch(digits)
    if match is None:
        raise InvalidKeyError(f"HIBCC date {digits!r} does not match {layout}")
    units = {unit: int(value) for unit, value in match.groupdict().items()}
    year = units["YYYY"] if "YYYY" in units else 2000 + units["YY"]
    try:
        if units.get("HH", 0) > 23:
            raise ValueError("hour out of range")
        if "JJJ" in units:
            if not 1 <= units["JJJ"] <= (366 if calendar.isleap(year) else 365):
                raise ValueError("day of year out of range")
            return date(year, 1, 1) + timedelta(days=units["JJJ"] - 1)
        day = units.get("DD") or calendar.monthrange(year, units["MM"])[1]
        return date(year, units["MM"], day)
    except ValueError as exc:  # calendar.IllegalMonthError is one too
        raise InvalidKeyError(f"HIBCC date {digits} ({layout}) is not a valid date") from exc


def _hibc_quantity(rest: str, fields: _Hibc) -> str:
    """Read a ``$$8``/``$$9`` quantity off ``rest``; return what follows it."""
    digits = _HIBC_QUANTITY_FLAGS.get(rest[:1])
    if digits is None:
        return rest
    quantity = rest[1 : 1 + digits]
    if len(quantity) != digits or not quantity.isdigit():
        raise InvalidKeyError(f"HIBCC quantity flag {rest[0]} must be followed by {digits} digits, got {quantity!r}")
    fields.set_once("quantity", int(quantity), quantity)
    if not rest[1 + digits :]:
        raise InvalidKeyError("HIBCC quantity must be followed by a date flag (0-7)")
    return rest[1 + digits :]


def _hibc_expiry(rest: str, fields: _Hibc) -> str:
    """Read a ``$$`` expiry date (flag 0/1 = MMYY, 2-6 = other layouts, 7 = none)."""
    flag = rest[:1]
    if flag == "7":
        return rest[1:]
    if flag in ("0", "1"):
        layout, digits = "MMYY", rest[:4]
        remainder = rest[4:]
    elif flag in _HIBC_DATE_FLAGS:
        layout, length = _HIBC_DATE_FLAGS[flag]
        digits, remainder = rest[1 : 1 + length], rest[1 + length :]
    else:
        raise InvalidKeyError(
            f"HIBCC date flag {flag!r} is not one of 0-1 (MMYY), 2 (MMDDYY), 3 (YYMMDD), "
            "4 (YYMMDDHH), 5 (YYJJJ), 6 (YYJJJHH) or 7 (no date)"
        )
    fields.set_once("expiry", _hibc_date(digits, layout), digits)
    fields.elements["expiry_format"] = layout
    return remainder


def _hibc_lot_or_serial(value: str, *, serial: bool, fields: _Hibc) -> None:
    if value:
        fields.set_once("serial" if serial else "lot", value, value)


def _parse_hibc_main(main: str, fields: _Hibc) -> None:
    """The first secondary field: ``$$[+][8QQ|9QQQQQ]{date}{lot}``, ``$[+]{lot}``, or
    the older ``{YYJJJ}{lot}``; a ``+`` after the ``$`` marks a serial number."""
    if main.startswith("$$"):
        rest = main[2:]
        serial = rest.startswith("+")
        rest = _hibc_expiry(_hibc_quantity(rest.removeprefix("+"), fields), fields)
        _hibc_lot_or_serial(rest, serial=serial, fields=fields)
    elif main.startswith("$"):
        serial = main.startswith("$+")
        _hibc_lot_or_serial(main[2:] if serial else main[1:], serial=serial, fields=fields)
    elif main[:5].isdigit() and len(main) >= 5:
        fields.set_once("expiry", _hibc_date(main[:5], "YYJJJ"), main[:5])
        fields.elements["expiry_format"] = "YYJJJ"
        _hibc_lot_or_serial(main[5:], serial=False, fields=fields)
    else:
        raise InvalidKeyError(f"HIBCC secondary data {main!r} must start with $, $$ or a 5-digit YYJJJ date")


def _parse_hibc_supplement(supplement: str, fields: _Hibc) -> None:
    """A ``/``-separated supplemental field: S serial, Q quantity, 14D expiry and
    16D manufacture date (YYYYMMDD)."""
    if supplement.startswith("16D"):
        fields.set_once("manufactured", _hibc_date(supplement[3:], "YYYYMMDD"), supplement[3:])
    elif supplement.startswith("14D"):
        fields.set_once("expiry", _hibc_date(supplement[3:], "YYYYMMDD"), supplement[3:])
    elif supplement.startswith("S") and len(supplement) > 1:
        fields.set_once("serial", supplement[1:], supplement[1:])
    elif supplement.startswith("Q") and supplement[1:].isdigit():
        fields.set_once("quantity", int(supplement[1:]), supplement[1:])
    else:
        raise InvalidKeyError(
            f"unknown HIBCC supplemental data field '/{supplement}' "
            "(expected /S{serial}, /Q{quantity}, /14D{YYYYMMDD} or /16D{YYYYMMDD})"
        )


def _parse_hibc_secondary(secondary: str, fields: _Hibc) -> None:
    fields.elements["secondary_data"] = secondary
    # Some labels repeat the '+' flag at the start of concatenated secondary data.
    main, *supplements = secondary.removeprefix("+").split("/")
    if not main:
        raise InvalidKeyError("HIBCC secondary data is empty")
    _parse_hibc_main(main, fields)
    for supplement in supplements:
        _parse_hibc_supplement(supplement, fields)


def _parse_hibc_primary(primary: str, fields: _Hibc) -> None:
    match = _HIBC_PRIMARY.fullmatch(primary)
    if match is None or not match["unit"].isdigit():
        raise InvalidKeyError(
            f"HIBCC primary data {primary!r} must be a LIC (a letter and 3 letters or "
            "digits), a product code (1-18 letters or digits) and a unit-of-measure digit"
        )
    fields.lic, fields.product_code, fields.unit = match["lic"], match["product"], match["unit"]
    fields.elements.update(lic=fields.lic, product_code=fields.product_code, unit_of_measure=fields.unit)


def _read_hibc_line(line: str, fields: _Hibc) -> None:
    """One HIBCC symbol: primary, primary/secondary, or secondary + link character.
    A wrong check character is recorded in ``fields.errors``; bad structure raises."""
    if line.startswith("*") and line.endswith("*") and len(line) > 1:
        line = line[1:-1]  # Code 39 start/stop characters, as printed in the caption
    if line.endswith("_"):
        line = line[:-1] + " "  # a caption shows a space check character as '_'
    hibc_check_character(line)  # raises on characters outside the HIBCC set
    if len(line) < 3:
        raise InvalidKeyError(f"HIBCC data {line!r} is too short")
    data, check = line[:-1], line[-1]
    fields.check = check
    fields.elements["check_character"] = check
    expected = hibc_check_character(data)
    if check != expected:
        fields.errors.append(f"HIBCC check character is {check!r}, expected {expected!r}")
    content = data[1:]
    if content[0].isalpha():
        primary, slash, secondary = content.partition("/")
        _parse_hibc_primary(primary, fields)
        if slash:
            _parse_hibc_secondary(secondary, fields)
    elif content[0].isdigit() or content[0] == "$":
        if len(content) < 2:
            raise InvalidKeyError("HIBCC secondary data has no link character")
        fields.link = content[-1]
        fields.elements["link_character"] = fields.link
        _parse_hibc_secondary(content[:-1], fields)
    else:
        raise InvalidKeyError(
            "HIBCC data after '+' must start with a LIC (a letter) or secondary data "
            f"(a digit or $), not {content[0]!r}"
        )


def _hibc_result(fields: _Hibc) -> UdiParse:
    valid = not fields.errors
    di = fields.di
    key = None
    if valid and di is not None:
        key = hibc_key(di, serial=fields.serial, lot=fields.lot)
    return UdiParse(
        valid=valid,
        issuer="HIBCC",
        lic=fields.lic,
        product_code=fields.product_code,
        di=di,
        lot=fields.lot,
        serial=fields.serial,
        expiry=_iso(fields.expiry),
        manufactured=_iso(fields.manufactured),
        quantity=fields.quantity,
        key=key,
        errors=fields.errors,
        elements=fields.elements,
    )


def _parse_hibc_line(line: str) -> UdiParse:
    fields = _Hibc()
    try:
        _read_hibc_line(line, fields)
    except InvalidKeyError as exc:
        return _invalid("HIBCC", str(exc))
    return _hibc_result(fields)


def _parse_hibc_pair(first: str, second: str) -> UdiParse:
    """A primary symbol and its separate secondary symbol, in either order; the
    secondary's link character must equal the primary's check character."""
    primary, secondary = _Hibc(), _Hibc()
    try:
        _read_hibc_line(first, primary)
        _read_hibc_line(second, secondary)
    except InvalidKeyError as exc:
        return _invalid("HIBCC", str(exc))
    if primary.di is None:
        primary, secondary = secondary, primary
    if primary.di is None or secondary.link is None:
        return _invalid("HIBCC", "two HIBCC lines must be a primary and a secondary symbol")
    merged = replace(
        secondary,
        lic=primary.lic,
        product_code=primary.product_code,
        unit=primary.unit,
        # Each symbol has its own check character; report both, primary first.
        elements={
            **primary.elements,
            **secondary.elements,
            "check_character": f"{primary.check}{secondary.check}",
        },
        errors=primary.errors + secondary.errors,
    )
    if secondary.link != primary.check:
        merged.errors.append(
            f"HIBCC link character {secondary.link!r} does not match the primary check character {primary.check!r}"
        )
    return _hibc_result(merged)


# --------------------------------------------------------------------------------- MA

#: MA production data separators: letter -> element name. V and E are both expiry
#: dates in the IDcode manual (有效期 "valid until", 失效期 "expires").
_MA_FIELDS = {
    "L": "lot",
    "S": "serial",
    "M": "manufactured",
    "D": "sterilisation_lot",
    "V": "valid_until",
    "E": "expiry",
    "C": "check",
}
_MA_DATE_FIELDS = frozenset({"M", "V", "E"})
_MA_UNVERIFIED = "unverified check: MA check characters are not verified (the algorithm is not public)"

_MA_DI_PARTS: tuple[tuple[str, str, str], ...] = (
    ("country", r"[0-9]{3}", "a 3-digit country code"),
    ("industry", r"M0", "the industry code M0 (medical devices)"),
    ("registrant", r"[0-9A-Z]{6}", "a 6-character registrant code"),
    (
        "product",
        # The IDcode manual gives 8 characters (packaging level digit, 6-character item,
        # check); codes issued in practice also have longer items and lower case letters.
        r"[0-9][0-9A-Za-z]{6,18}[0-9A-Za-z]",
        "a product code of 8 or more letters and digits: packaging level digit, item, check",
    ),
)


def _ma_date(tag: str, value: str) -> date:
    layout = {6: "%y%m%d", 8: "%Y%m%d"}.get(len(value))
    if layout is None or not value.isdigit():
        raise InvalidKeyError(f"MA date .{tag}{value} must be 6 (YYMMDD) or 8 (YYYYMMDD) digits")
    try:
        year = int(value[:-4]) + (2000 if len(value) == 6 else 0)
        return date(year, int(value[-4:-2]), int(value[-2:]))
    except ValueError as exc:
        raise InvalidKeyError(f"MA date .{tag}{value} is not a valid date") from exc


def _ma_di(tokens: list[str]) -> dict[str, str]:
    """Validate the DI ``MA.{country}.M0.{registrant}.{product}``; return it and its parts."""
    if tokens[0] != "MA" or len(tokens) < 5:
        raise InvalidKeyError(
            "an MA code starts MA.{country}.M0.{registrant}.{product}, e.g. MA.156.M0.100204.13351764"
        )
    parts = {"di": ".".join(tokens[:5])}
    for (name, pattern, description), token in zip(_MA_DI_PARTS, tokens[1:5], strict=True):
        if re.fullmatch(pattern, token) is None:
            raise InvalidKeyError(f"MA {name} {token!r} must be {description}")
        parts[name] = token
    product = parts.pop("product")
    return {**parts, "packaging_level": product[0], "item": product[1:-1], "di_check": product[-1]}


def _ma_production_data(tokens: list[str], elements: dict[str, str]) -> dict[str, str]:
    """``.L…`` ``.S…`` …: tag letter -> value, each at most once."""
    values: dict[str, str] = {}
    for token in tokens:
        tag, value = token[:1], token[1:]
        if tag not in _MA_FIELDS:
            raise InvalidKeyError(
                f"unknown MA data separator '.{tag}' (expected one of "
                f"{', '.join('.' + letter for letter in _MA_FIELDS)})"
            )
        if not (value.isascii() and value.isalnum()):
            raise InvalidKeyError(f"MA field .{tag} must be letters and digits, got {value!r}")
        if tag in values:
            raise InvalidKeyError(f"MA field .{tag} appears twice")
        values[tag] = value
        elements[_MA_FIELDS[tag]] = value
    return values


#: An MA code inside a URL (a resolver link printed as a QR code): ``…/MA.156.M0.…`` or
#: ``…?code=MA.156.M0.…``.
_MA_IN_URL = re.compile(r"(?:^|[/=?&])(MA\.[0-9]{3}\.M0\.[^/?&#\s]+)")


def _ma_in_url(data: str) -> UdiParse | None:
    """The MA code an ``http(s)`` URL carries, parsed; None if it carries none."""
    if not data[:8].lower().startswith(("http://", "https://")):
        return None
    match = _MA_IN_URL.search(unquote(data))
    if match is None:
        return None
    parsed = _parse_ma(match.group(1))
    return parsed.model_copy(update={"elements": {**parsed.elements, "url": data}})


#: Issuing agencies the ``<UDI IAC="…">`` XML form may name, and how their data reads.
_XML_ISSUERS = ("MA", "GS1", "HIBCC")


def _parse_udi_xml(data: str, settings: Gs1Settings) -> UdiParse:
    """The XML form ``<UDI IAC="MA">MA.156.M0.….S….L…</UDI>``: the issuing agency
    (IAC) as an attribute and the code as text; the text of child elements, if the code
    is split into them, is joined in document order."""
    try:
        root = etree.fromstring(data.encode("utf-8"), parser=_XML_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:  # ValueError: text that is not UTF-8
        return _invalid(None, f"UDI XML is not well-formed: {exc}")
    if etree.QName(root).localname != "UDI":
        return _invalid(None, f"UDI XML must have a <UDI> root element, not <{etree.QName(root).localname}>")
    issuer = (root.get("IAC") or "").strip().upper()
    if issuer not in _XML_ISSUERS:
        return _invalid(None, f"<UDI IAC={issuer!r}>: the issuing agency must be one of {', '.join(_XML_ISSUERS)}")
    code = "".join(str(part).strip() for part in root.itertext())
    parsed = _parse_scan(code, settings)
    if parsed.issuer not in (issuer, None):
        return _invalid(cast(Issuer, issuer), f"<UDI IAC={issuer!r}> holds a {parsed.issuer} code")
    return parsed


_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _parse_ma(data: str) -> UdiParse:
    """An MA (IDcode) UDI: ``MA.156.M0.100204.13351764.S….L…``."""
    tokens = data.split(".")
    try:
        elements = _ma_di(tokens)
        values = _ma_production_data(tokens[5:], elements)
        dates = {tag: _ma_date(tag, values[tag]) for tag in _MA_DATE_FIELDS if tag in values}
    except InvalidKeyError as exc:
        return _invalid("MA", str(exc))
    elements["note"] = _MA_UNVERIFIED
    elements["check_status"] = "unverified"
    di, serial, lot = elements["di"], values.get("S"), values.get("L")
    return UdiParse(
        valid=True,
        issuer="MA",
        di=di,
        lot=lot,
        serial=serial,
        expiry=_iso(dates.get("E") or dates.get("V")),
        manufactured=_iso(dates.get("M")),
        key=ma_key(di, serial=serial, lot=lot),
        elements=elements,
    )
