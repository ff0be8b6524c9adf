"""Canonical keys: one key per real thing, whatever form it arrived in.

An EPCIS event names a unit by EPC URN, a scanner reads a GS1 element string, a web link
carries a GS1 Digital Link URI and an ERP export has a GTIN and a serial in two columns:
all of them must land on the same node. :func:`canonical_key` turns every accepted form
into the key of DESIGN.md's identity table:

==========================  =========================================================
thing                       canonical key
==========================  =========================================================
serialised unit             ``01/{GTIN-14}/21/{serial}``
lot of a GTIN               ``01/{GTIN-14}/10/{lot}``
trade item (class)          ``01/{GTIN-14}``
logistic unit               ``00/{SSCC-18}``
location / party            ``414/{GLN}`` (``/254/{ext}`` unless ext is 0), ``417/{GLN}``
HIBCC unit / lot / item     ``hibc/{LIC}{product}{unit}`` + ``/21/{serial}`` | ``/10/{lot}``
MA (China IDcode)           ``ma/{DI}`` + ``/21/{serial}`` | ``/10/{lot}``
anything else               ``{kind}:{natural key}``
==========================  =========================================================

GS1 keys are GS1 Digital Link paths, which need no company-prefix table, so a key is also
a valid Digital Link once a host is put in front of it (:func:`digital_link`). Serials,
lots and extensions are kept exactly and percent-encoded as a Digital Link path segment
requires (:func:`encode_key_value`, undone by :func:`decode_key_value`).

Barcode parsing (element strings, Digital Link, HIBCC, MA) lives in :mod:`schema.udi`,
which builds on this module; this module turns its findings into keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from biip import ParseError
from biip.gs1_element_strings import GS1ElementString

from schema.errors import InvalidKeyError, UnsupportedFormatError
from schema.kinds import KEY_PREFIXES, NodeKind

__all__ = [
    "LOT_AI",
    "SERIAL_AI",
    "canonical_key",
    "decode_key_value",
    "digital_link",
    "encode_key_value",
    "gln_key",
    "gs1_check_digit",
    "gs1_key",
    "gtin_key",
    "hibc_key",
    "key_kind",
    "ma_key",
    "normalise_gtin",
    "party_key",
    "sscc_key",
    "validate_gs1_check_digit",
]

#: Digit counts of the GS1 keys whose check digits we validate.
_KEY_LENGTHS: dict[str, tuple[int, ...]] = {
    "GTIN": (8, 12, 13, 14),
    "SSCC": (18,),
    "GLN": (13,),
}

#: Key qualifiers TraceGraph keys on, in the order a canonical key lists them.
SERIAL_AI = "21"
LOT_AI = "10"

_DIGITS = re.compile(r"[0-9]+")
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_KIND_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.DOTALL)
_GS1_KEY_PATH = re.compile(r"[0-9]{2,4}/")
#: GS1 keys already canonical, with values that need no encoding and fit AI (10)/(21):
#: only their check digit is left to verify (see _plain_gs1_key).
_PLAIN_GS1_KEY = re.compile(
    r"01/(?P<gtin>[0-9]{14})(?:/(?:21|10)/[A-Za-z0-9._-]{1,20})?|00/(?P<sscc>[0-9]{18})|41[47]/(?P<gln>[0-9]{13})"
)
_HIBC_DI = re.compile(r"(?P<lic>[A-Z][A-Z0-9]{3})(?P<product>[A-Z0-9]{1,18})(?P<unit>[0-9])")
#: The IDcode manual gives an 8-character product code; issued codes also run longer
#: and use lower case letters (see schema/udi.py).
_MA_DI = re.compile(r"MA\.[0-9]{3}\.M0\.[0-9A-Z]{6}\.[0-9][0-9A-Za-z]{6,18}[0-9A-Za-z]")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

_GS1_BASE = "https://id.gs1.org"


# --------------------------------------------------------------------------- check digits


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() accepts Arabic-Indic and other Unicode digits; GS1 numbers are ASCII.
    return _DIGITS.fullmatch(text) is not None


def gs1_check_digit(digits_without_check: str) -> str:
    """The GS1 mod-10 check digit of ``digits_without_check`` (GS1 General Specs 7.9.1).

    >>> gs1_check_digit("950600013435")
    '2'
    """
    if not _is_ascii_digits(digits_without_check):
        raise InvalidKeyError(f"cannot compute a GS1 check digit of {digits_without_check!r}: digits 0-9 only")
    weighted = sum(
        int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(digits_without_check))
    )
    return str((10 - weighted % 10) % 10)


def validate_gs1_check_digit(number: str, *, what: str) -> None:
    """Raise :class:`InvalidKeyError` unless ``number`` is a well-formed ``what``.

    ``what`` names the key (``"GTIN"``, ``"SSCC"``, ``"GLN"``, or any other GS1 key with
    a trailing mod-10 check digit); for the first three the length is checked as well.

    >>> validate_gs1_check_digit("09506000134353", what="GTIN")
    Traceback (most recent call last):
    ...
    schema.errors.InvalidKeyError: GTIN 09506000134353 has check digit 3, expected 2
    """
    if not _is_ascii_digits(number):
        raise InvalidKeyError(f"{what} {number!r} must contain only the digits 0-9")
    lengths = _KEY_LENGTHS.get(what)
    if lengths is not None and len(number) not in lengths:
        expected = " or ".join(str(length) for length in lengths)
        raise InvalidKeyError(f"{what} {number} has {len(number)} digits, expected {expected}")
    if len(number) < 2:
        raise InvalidKeyError(f"{what} {number} is too short to carry a check digit")
    expected_digit = gs1_check_digit(number[:-1])
    if number[-1] != expected_digit:
        raise InvalidKeyError(f"{what} {number} has check digit {number[-1]}, expected {expected_digit}")


def normalise_gtin(gtin: str) -> str:
    """Validate a GTIN-8/12/13/14 and return it zero-padded to 14 digits."""
    validate_gs1_check_digit(gtin, what="GTIN")
    return gtin.zfill(14)


# ------------------------------------------------------------------ key value encoding


def encode_key_value(value: str) -> str:
    """Percent-encode a serial, lot or extension as a Digital Link path segment.

    Everything but ``A-Z a-z 0-9 - . _ ~`` is encoded, which covers every character of
    GS1's set 82 that a URI reserves (GS1 Digital Link URI syntax) and HIBCC's ``$ + %``
    and space. The encoding is canonical: upper-case hex, nothing encoded needlessly.

    >>> encode_key_value("A/B+C 1")
    'A%2FB%2BC%201'
    """
    return quote(value, safe="")


def decode_key_value(segment: str) -> str:
    """Undo :func:`encode_key_value` (and accept any other valid percent-encoding).

    >>> decode_key_value("A%2fB%2BC%201")
    'A/B+C 1'
    """
    if _MALFORMED_ESCAPE.search(segment):
        raise InvalidKeyError(f"{segment!r} has a '%' that does not start a %XX escape; write '%' as %25")
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidKeyError(f"{segment!r} percent-encodes bytes that are not UTF-8") from exc


# ------------------------------------------------------------------------- key builders


def _qualified(base: str, *, serial: str | None, lot: str | None) -> str:
    """``base`` + ``/21/{serial}`` or ``/10/{lot}``: a serial names the unit, so it wins."""
    if serial is not None:
        if not serial:
            raise InvalidKeyError(f"empty serial number for {base}")
        return f"{base}/{SERIAL_AI}/{encode_key_value(serial)}"
    if lot is not None:
        if not lot:
            raise InvalidKeyError(f"empty lot number for {base}")
        return f"{base}/{LOT_AI}/{encode_key_value(lot)}"
    return base


def gtin_key(gtin: str, *, serial: str | None = None, lot: str | None = None) -> str:
    """The key of a unit (serial), a lot, or the trade item itself (neither).

    >>> gtin_key("9506000134352", serial="A/1", lot="L1")
    '01/09506000134352/21/A%2F1'
    """
    return _qualified(f"01/{normalise_gtin(gtin)}", serial=serial, lot=lot)


def sscc_key(sscc: str) -> str:
    """The key of a logistic unit (case, pallet)."""
    validate_gs1_check_digit(sscc, what="SSCC")
    return f"00/{sscc}"


def gln_key(gln: str, extension: str | None = None) -> str:
    """The key of a physical location; extension ``0`` (or none) is the location itself."""
    validate_gs1_check_digit(gln, what="GLN")
    if extension is None or extension == "0":
        return f"414/{gln}"
    if not extension:
        raise InvalidKeyError(f"empty GLN extension for GLN {gln}")
    return f"414/{gln}/254/{encode_key_value(extension)}"


def party_key(gln: str) -> str:
    """The key of a party (AI 417)."""
    validate_gs1_check_digit(gln, what="GLN")
    return f"417/{gln}"


def hibc_key(di: str, *, serial: str | None = None, lot: str | None = None) -> str:
    """The key of a HIBCC-labelled unit, lot or item; ``di`` is LIC + product + unit."""
    if _HIBC_DI.fullmatch(di) is None:
        raise InvalidKeyError(
            f"HIBCC device identifier {di!r} must be a 4-character LIC starting with a "
            "letter, a 1-18 character product code (A-Z, 0-9) and a 1-digit unit of measure"
        )
    return _qualified(f"hibc/{di}", serial=serial, lot=lot)


def ma_key(di: str, *, serial: str | None = None, lot: str | None = None) -> str:
    """The key of an MA-coded (China IDcode) unit, lot or item; the DI is upper-cased,
    as labels print the same DI in either case."""
    di = di.upper()
    if _MA_DI.fullmatch(di) is None:
        raise InvalidKeyError(
            f"MA device identifier {di!r} must look like MA.156.M0.{{registrant, 6}}."
            "{packaging level, 1 digit}{item, 6 or more}{check, 1}"
        )
    return _qualified(f"ma/{di}", serial=serial, lot=lot)


#: GS1 primary keys that have no canonical key form (yet); named in error messages.
_UNKEYED_GS1_KEYS = {
    "02": "GTIN of contained trade items",
    "253": "GDTI",
    "255": "GCN",
    "401": "GINC",
    "402": "GSIN",
    "8003": "GRAI",
    "8004": "GIAI",
    "8006": "ITIP",
    "8010": "CPID",
    "8013": "GMN",
    "8017": "GSRN-provider",
    "8018": "GSRN-recipient",
}


def gs1_key(elements: Mapping[str, str]) -> str:
    """The canonical key of what a set of GS1 element strings identifies.

    ``elements`` maps AI to raw value. (01) takes precedence over (00), (414) and (417):
    a UDI names a trade item even when a logistic label shares the barcode.
    Raises :class:`InvalidKeyError` when nothing is identified and
    :class:`UnsupportedFormatError` for GS1 keys TraceGraph does not key on.
    """
    if "01" in elements:
        if "235" in elements and SERIAL_AI not in elements:
            # GTIN + TPX identifies one item; a class key would merge distinct items.
            raise UnsupportedFormatError("a GTIN with a third-party serial extension (235) has no canonical key")
        return gtin_key(elements["01"], serial=elements.get(SERIAL_AI), lot=elements.get(LOT_AI))
    if "00" in elements:
        return sscc_key(elements["00"])
    if "414" in elements:
        return gln_key(elements["414"], elements.get("254"))
    if "417" in elements:
        return party_key(elements["417"])
    unkeyed = [f"({ai}) {name}" for ai, name in _UNKEYED_GS1_KEYS.items() if ai in elements]
    if unkeyed:
        raise UnsupportedFormatError(
            f"GS1 key {', '.join(unkeyed)} has no canonical key in TraceGraph "
            "(supported: (01) GTIN, (00) SSCC, (414) GLN, (417) party GLN)"
        )
    found = ", ".join(f"({ai})" for ai in elements) or "none"
    raise InvalidKeyError(
        f"the GS1 data identifies nothing by itself: no (01) GTIN, (00) SSCC, (414) GLN "
        f"or (417) party GLN (AIs found: {found})"
    )


# --------------------------------------------------------------------------- EPC URNs


@dataclass(frozen=True)
class _EpcUrn:
    """An EPC URN split into its parts: ``urn:epc:{family}:{scheme}:{body}``."""

    text: str
    family: str
    scheme: str
    body: str

    def fields(self, count: int, layout: str) -> list[str]:
        """The body's ``count`` '.'-separated fields; the last (a serial, lot or
        extension) may itself contain '.', which EPC URIs do not escape."""
        fields = self.body.split(".", count - 1)
        if len(fields) != count:
            raise InvalidKeyError(
                f"{self.text} must have {count} '.'-separated fields after "
                f"'{self.family}:{self.scheme}:' ({layout}), has {len(fields)}"
            )
        return fields


def _split_epc_urn(text: str) -> _EpcUrn:
    parts = text.split(":", 4)
    if len(parts) != 5 or parts[1].lower() != "epc":
        raise InvalidKeyError(f"{text!r} is not an EPC URN (expected urn:epc:{{id|class|idpat|tag}}:…)")
    return _EpcUrn(text, parts[2].lower(), parts[3].lower(), parts[4])


def _company_number(urn: _EpcUrn, prefix: str, reference: str, *, total: int) -> str:
    """Company prefix + reference, validated; ``total`` is their combined digit count."""
    if not (_is_ascii_digits(prefix) and _is_ascii_digits(reference)):
        raise InvalidKeyError(f"{urn.text}: company prefix {prefix!r} and reference {reference!r} must be digits")
    if not 6 <= len(prefix) <= 12:
        raise InvalidKeyError(f"{urn.text}: company prefix {prefix} has {len(prefix)} digits, expected 6 to 12")
    if len(prefix) + len(reference) != total:
        raise InvalidKeyError(
            f"{urn.text}: company prefix and reference have {len(prefix) + len(reference)} "
            f"digits together, expected {total}"
        )
    return prefix + reference


def _with_check_digit(digits: str) -> str:
    return digits + gs1_check_digit(digits)


def _epc_gtin(urn: _EpcUrn, prefix: str, item_reference: str) -> str:
    # The indicator digit leads the item reference in an EPC, and the GTIN.
    _company_number(urn, prefix, item_reference, total=13)
    return _with_check_digit(item_reference[0] + prefix + item_reference[1:])


def _epc_sscc(urn: _EpcUrn, prefix: str, serial_reference: str) -> str:
    # The extension digit leads the serial reference in an EPC, and the SSCC.
    _company_number(urn, prefix, serial_reference, total=17)
    return _with_check_digit(serial_reference[0] + prefix + serial_reference[1:])


def _epc_gln(urn: _EpcUrn, prefix: str, reference: str) -> str:
    return _with_check_digit(_company_number(urn, prefix, reference, total=12))


def _epc_value(urn: _EpcUrn, escaped: str, ai: str, name: str) -> str:
    """Decode a URN-escaped serial/lot/extension and check it against its GS1 AI."""
    value = decode_key_value(escaped)
    try:
        GS1ElementString.parse(ai + value)
    except ParseError as exc:
        raise InvalidKeyError(
            f"{urn.text}: {name} {value!r} is not a valid GS1 ({ai}) value: up to 20 characters of GS1's set 82"
        ) from exc
    return value


def _sgtin_key(urn: _EpcUrn, fields: list[str]) -> str:
    prefix, item_reference, serial = fields
    gtin = _epc_gtin(urn, prefix, item_reference)
    return gtin_key(gtin, serial=_epc_value(urn, serial, SERIAL_AI, "serial"))


def _sscc_key(urn: _EpcUrn, fields: list[str]) -> str:
    return sscc_key(_epc_sscc(urn, *fields))


def _sgln_key(urn: _EpcUrn, fields: list[str]) -> str:
    prefix, reference, extension = fields
    gln = _epc_gln(urn, prefix, reference)
    if extension == "0":
        return gln_key(gln)
    return gln_key(gln, _epc_value(urn, extension, "254", "GLN extension"))


def _epc_id_key(urn: _EpcUrn) -> str:
    match urn.scheme:
        case "sgtin":
            return _sgtin_key(urn, urn.fields(3, "company prefix . indicator+item reference . serial"))
        case "sscc":
            return _sscc_key(urn, urn.fields(2, "company prefix . extension+serial reference"))
        case "sgln":
            return _sgln_key(urn, urn.fields(3, "company prefix . location reference . extension"))
        case "pgln":
            return party_key(_epc_gln(urn, *urn.fields(2, "company prefix . party reference")))
    raise UnsupportedFormatError(
        f"{urn.text}: EPC scheme '{urn.scheme}' has no canonical key in TraceGraph "
        "(supported: sgtin, sscc, sgln, pgln, lgtin)"
    )


def _epc_class_key(urn: _EpcUrn) -> str:
    if urn.scheme != "lgtin":
        raise UnsupportedFormatError(f"{urn.text}: EPC class scheme '{urn.scheme}' is not supported (only lgtin)")
    prefix, item_reference, lot = urn.fields(3, "company prefix . indicator+item reference . lot")
    gtin = _epc_gtin(urn, prefix, item_reference)
    return gtin_key(gtin, lot=_epc_value(urn, lot, LOT_AI, "lot"))


def _epc_pattern_key(urn: _EpcUrn) -> str:
    # Only "every serial of one GTIN" names a single thing: the trade item (class) itself.
    if urn.scheme == "sgtin" and urn.body.count(".") == 2:
        prefix, item_reference, serial = urn.body.split(".")
        if serial == "*" and "*" not in (prefix, item_reference):
            return gtin_key(_epc_gtin(urn, prefix, item_reference))
    raise InvalidKeyError(
        f"{urn.text} is a pattern matching many things; only a whole-GTIN pattern "
        "(urn:epc:idpat:sgtin:{company prefix}.{item reference}.*) names one, its trade item"
    )


#: Tag-encoding schemes (what an RFID reader reports) and their pure-identity scheme.
_TAG_SCHEMES = {
    "sgtin-96": "sgtin",
    "sgtin-198": "sgtin",
    "sscc-96": "sscc",
    "sgln-96": "sgln",
    "sgln-195": "sgln",
}


def _epc_tag_key(urn: _EpcUrn) -> str:
    scheme = _TAG_SCHEMES.get(urn.scheme)
    if scheme is None:
        raise UnsupportedFormatError(
            f"{urn.text}: EPC tag scheme '{urn.scheme}' is not supported (supported: {', '.join(_TAG_SCHEMES)})"
        )
    # A tag URI is the pure identity plus a leading filter value, which names no thing.
    _, identity = urn.fields(2, "filter . pure identity fields")
    return _epc_id_key(_EpcUrn(urn.text, "id", scheme, identity))


def _epc_key(text: str) -> str:
    urn = _split_epc_urn(text)
    match urn.family:
        case "id":
            return _epc_id_key(urn)
        case "class":
            return _epc_class_key(urn)
        case "idpat":
            return _epc_pattern_key(urn)
        case "tag":
            return _epc_tag_key(urn)
    raise InvalidKeyError(f"{text}: unknown EPC URN family '{urn.family}' (expected id, class, idpat or tag)")


# ------------------------------------------------------------------- canonical key forms


def _kind_key(kind: str, natural_key: str) -> str:
    prefix = kind.lower()
    if prefix not in KEY_PREFIXES:
        raise InvalidKeyError(f"unknown key prefix {kind!r} (expected one of {', '.join(KEY_PREFIXES)})")
    natural = natural_key.strip()
    if not natural:
        raise InvalidKeyError(f"key {kind}: has an empty natural key")
    if _CONTROL_CHARACTERS.search(natural):
        raise InvalidKeyError(f"key {kind}:{natural!r} contains control characters")
    return f"{prefix}:{natural}"


def _split_qualified_key(text: str, prefix: str) -> tuple[str, str | None, str | None]:
    """``{prefix}/{di}[/21/{serial}|/10/{lot}]`` -> (di, serial, lot), values decoded."""
    segments = text.split("/")
    if len(segments) == 2:
        return segments[1], None, None
    if len(segments) == 4 and segments[2] in (SERIAL_AI, LOT_AI):
        value = decode_key_value(segments[3])
        if segments[2] == SERIAL_AI:
            return segments[1], value, None
        return segments[1], None, value
    raise InvalidKeyError(
        f"{text!r} is not a {prefix} key: expected {prefix}/{{DI}}, "
        f"{prefix}/{{DI}}/21/{{serial}} or {prefix}/{{DI}}/10/{{lot}}"
    )


def _hibc_canonical(text: str) -> str:
    di, serial, lot = _split_qualified_key(text, "hibc")
    # HIBCC data has no lower case (Code 39 character set), so case cannot tell keys apart.
    return hibc_key(di.upper(), serial=serial, lot=lot)


def _ma_canonical(text: str) -> str:
    di, serial, lot = _split_qualified_key(text, "ma")
    return ma_key(di, serial=serial, lot=lot)


def _plain_gs1_key(text: str) -> str | None:
    """``text`` itself if it is a canonical GS1 key in its plainest form, else None.

    Loaders canonicalise a key per row; parsing each as a Digital Link costs ~70 µs,
    checking a digit ~2 µs. Anything less plain takes the full path."""
    match = _PLAIN_GS1_KEY.fullmatch(text)
    if match is None:
        return None
    what, number = next((name, value) for name, value in match.groupdict().items() if value is not None)
    validate_gs1_check_digit(number, what=what.upper())
    return text


def _gs1_path_key(text: str) -> str:
    """A GS1 key path (``01/…/21/…``) is a Digital Link path: parse it as one."""
    from schema.udi import parse_udi  # here, not at the top: udi builds on this module

    parsed = parse_udi(f"{_GS1_BASE}/{text}")
    if not parsed.valid:
        raise InvalidKeyError(f"{text!r}: {'; '.join(parsed.errors)}")
    return gs1_key(parsed.elements)


def _barcode_key(text: str) -> str:
    """The key of a scanned or typed barcode (element string, Digital Link, HIBCC, MA)."""
    from schema.udi import read_barcode  # here, not at the top: udi builds on this module

    parsed = read_barcode(text)  # raises UnsupportedFormatError for AHM, ICCBBA
    if parsed.key is not None:
        return parsed.key
    if not parsed.valid:
        raise InvalidKeyError(f"{text.strip()!r}: {'; '.join(parsed.errors)}")
    if parsed.issuer == "GS1":
        return gs1_key(parsed.elements)  # raises, saying why there is no key
    raise InvalidKeyError(
        f"{text!r} identifies no single thing: it carries production data (lot, dates) but no device identifier"
    )


def canonical_key(text: str) -> str:
    """The canonical key of the thing ``text`` identifies, in any accepted form.

    Accepted: a canonical key (returned normalised); EPC URNs (``urn:epc:id:sgtin``,
    ``sscc``, ``sgln``, ``pgln``, ``urn:epc:class:lgtin``, tag URIs such as
    ``urn:epc:tag:sgtin-96``, and whole-GTIN patterns ``urn:epc:idpat:sgtin:P.I.*``);
    GS1 element strings (bracketed, or raw with GS separators, with or without a
    symbology identifier); GS1 Digital Link URIs on any host; HIBCC and MA barcodes;
    ``{kind}:{natural key}`` with ``kind`` one of :data:`schema.kinds.KEY_PREFIXES`.

    A bare number of 8 to 14 digits is refused: it could be a GTIN or a GLN. 18 bare
    digits whose check digit holds are an SSCC, as WMS exports write one (``00/…``).
    Raises :class:`InvalidKeyError` saying what is wrong, or
    :class:`UnsupportedFormatError` for recognised forms TraceGraph cannot key (AHM).

    >>> canonical_key("urn:epc:id:sgtin:0614141.812345.6789")
    '01/80614141123458/21/6789'
    >>> canonical_key("(01)80614141123458(10)L1(21)6789")
    '01/80614141123458/21/6789'
    >>> canonical_key("Supplier: ACME-01")
    'supplier:ACME-01'
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidKeyError("empty key")
    if stripped[:4].lower() == "urn:":
        return _epc_key(stripped)
    if stripped[:5].lower() == "hibc/":
        return _hibc_canonical(stripped)
    if stripped[:3].lower() == "ma/":
        return _ma_canonical(stripped)
    if _GS1_KEY_PATH.match(stripped):
        return _plain_gs1_key(stripped) or _gs1_path_key(stripped)
    kind = _KIND_PREFIX.fullmatch(stripped)
    if kind and kind.group(1).lower() not in ("http", "https"):
        return _kind_key(kind.group(1), kind.group(2))
    if _is_ascii_digits(stripped) and len(stripped) in _KEY_LENGTHS["GTIN"]:
        raise InvalidKeyError(
            f"bare number {stripped} is ambiguous (GTIN? GLN?); write 01/{{GTIN}}, "
            "414/{GLN} or a GS1 element string such as (01)…"
        )
    return _barcode_key(text)


# -------------------------------------------------------------------- reading keys back


def key_kind(key: str) -> NodeKind | None:
    """The node kind a canonical key implies, or None if it implies none.

    >>> key_kind("01/09506000134352/21/ABC"), key_kind("wo:WO-1")
    (<NodeKind.DEVICE: 'Device'>, <NodeKind.WORK_ORDER: 'WorkOrder'>)
    """
    kind = _KIND_PREFIX.fullmatch(key)
    if kind:
        return KEY_PREFIXES.get(kind.group(1))
    segments = key.split("/")
    head = segments[0]
    if head in ("01", "hibc", "ma"):
        if len(segments) == 2:
            return NodeKind.PART
        if len(segments) == 4:
            return {SERIAL_AI: NodeKind.DEVICE, LOT_AI: NodeKind.PRODUCT_LOT}.get(segments[2])
        return None
    if head == "00" and len(segments) == 2:
        return NodeKind.CONTAINER
    if head in ("414", "417") and len(segments) in (2, 4):
        return NodeKind.CONSIGNEE
    return None


def digital_link(
    key: str,
    *,
    base: str = _GS1_BASE,
    attributes: bool = False,
    permit_unknown_ais: bool = False,
    validate_unknown_ai_not_dl_attr: bool = True,
) -> str | None:
    """The GS1 Digital Link URI of a key, or None for keys outside GS1 (HIBCC, MA, kind).

    ``key`` may be in any form :func:`canonical_key` accepts; ``base`` is the resolver
    (``https://id.gs1.org`` is GS1's canonical one). The inverse, URI to key, is
    :func:`canonical_key`. (EPC URNs are not produced: they need the length of the
    company prefix, which a GTIN does not carry.)

    By default the URI names the thing, as its canonical key does. With ``attributes``,
    ``key`` is GS1 barcode data and the URI carries all of it, as GS1 Digital Link writes
    it: key qualifiers in the path, every other AI as a data attribute in the query
    (:func:`schema.udi.gs1_digital_link_uri`); data that cannot be written so (e.g. (8200)
    is no data attribute) is refused. ``permit_unknown_ais`` and
    ``validate_unknown_ai_not_dl_attr`` are the options of :func:`schema.udi.parse_udi`.

    >>> digital_link("(01)09506000134352(21)A/1", base="https://example.com/")
    'https://example.com/01/09506000134352/21/A%2F1'
    >>> digital_link("(01)09506000134352(17)250101(10)L1", attributes=True)
    'https://id.gs1.org/01/09506000134352/10/L1?17=250101'
    """
    if not re.match(r"https?://[^/?#]+", base, re.IGNORECASE):
        raise InvalidKeyError(f"Digital Link base {base!r} must be an http(s) URL")
    if attributes:
        from schema.udi import gs1_digital_link_uri, parse_udi  # here, not at the top: udi builds on this module

        parsed = parse_udi(
            key, permit_unknown_ais=permit_unknown_ais, validate_unknown_ai_not_dl_attr=validate_unknown_ai_not_dl_attr
        )
        if not parsed.valid:
            raise InvalidKeyError(f"{key.strip()!r}: {'; '.join(parsed.errors)}")
        if parsed.issuer != "GS1":
            return None
        return gs1_digital_link_uri(
            parsed.elements, base=base, validate_unknown_ai_not_dl_attr=validate_unknown_ai_not_dl_attr
        )
    canonical = canonical_key(key)
    if not _GS1_KEY_PATH.match(canonical):
        return None
    return f"{base.rstrip('/')}/{canonical}"
