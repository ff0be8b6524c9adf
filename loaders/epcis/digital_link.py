"""EPC URNs and GS1 Digital Link URIs -> the constrained canonical GS1 Digital Link URI.

This is the identifier canonicalisation step of the CBV 2.0 event hash: every URI that
carries a GS1 key (EPC pure identity, EPC class, EPC id pattern, Digital Link on any host)
becomes ``https://id.gs1.org/{AI}/{key}[/{qualifier}/{value}]`` at its finest level of
identification, without CPV, query or fragment. Anything else returns None and is hashed
as written.

It is not :func:`schema.identifiers.canonical_key`: that decides graph identity for the
keys TraceGraph supports and validates check digits; this reproduces, character for
character, the reference algorithm (RalphTro/epcis-event-hash-generator, ``dl_normaliser``)
for every GS1 key, so that hashes agree with other implementations. Its quirks are kept on
purpose: only ``! ( ) * + , :`` are percent-encoded, other escapes are kept as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_BASE = "https://id.gs1.org/"

#: One character of an EPC URN serial/lot/extension: GS1 set 82 in URN escaping.
_C = r"(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])"
#: One character of a CPI component/part reference.
_CPI_C = r"(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])"
#: One character of a value in the reference's final syntax check (no '%').
_V = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit (General Specifications 7.9.1)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _encode(value: str) -> str:
    # The reference encodes only these; EPC URNs already escape the rest.
    for char, escape in (
        ("!", "%21"),
        ("(", "%28"),
        (")", "%29"),
        ("*", "%2A"),
        ("+", "%2B"),
        (",", "%2C"),
        (":", "%3A"),
    ):
        value = value.replace(char, escape)
    return value


def _split_prefix(total: int) -> str:
    """A company prefix of 6-12 digits and a reference making ``total`` digits together."""
    options = "|".join(rf"\d{{{p}}}\.\d{{{total - p}}}" for p in range(6, min(13, total)))
    return f"(?:{options})"


def _with_check(digits: str) -> str:
    return digits + check_digit(digits)


def _cut(body: str, digits: int) -> tuple[str, str, str]:
    """Company prefix, reference (``digits`` digits together) and the rest of an EPC body.

    Like the reference, the rest starts two characters after the digits (the two
    separators), whatever those characters are.
    """
    prefix = body[: body.index(".")]
    reference = body[len(prefix) + 1 : digits + 1]
    return prefix, reference, body[digits + 2 :]


def _gtin(body: str) -> str:
    prefix, item_reference, _ = _cut(body, 13)
    return _with_check(item_reference[:1] + prefix + item_reference[1:])


def _after_first_dot(body: str) -> str:
    return body[body.index(".") + 1 :]


def _cpi(body: str) -> str:
    """Company prefix + component/part reference of a CPI (the serial follows the last dot)."""
    return body[: body.index(".")] + body[body.index(".") + 1 : body.rindex(".")]


def _sscc(body: str) -> str:
    prefix, reference, _ = _cut(body, 17)
    return _with_check(reference[:1] + prefix + reference[1:])


def _sgln(body: str) -> str:
    prefix, reference, extension = _cut(body, 12)
    gln = _with_check(prefix + reference)
    return f"414/{gln}" if extension == "0" else f"414/{gln}/254/{_encode(extension)}"


def _company_number(body: str, digits: int, *, lead: str = "") -> str:
    prefix, reference, _ = _cut(body, digits)
    return _with_check(lead + prefix + reference)


def _id_with_prefix(scheme: str, body_pattern: str) -> re.Pattern[str]:
    return re.compile(f"urn:epc:{scheme}:{body_pattern}")


def _short_prefixed(max_total: int, chars: str) -> str:
    """A 6-12 digit company prefix, a dot and up to ``max_total`` characters in all."""
    return "(?:" + "|".join(rf"\d{{{p}}}\.{chars}{{1,{max_total - p}}}" for p in range(6, 13)) + ")"


_TWELVE = rf"(?:{_split_prefix(12)}|\d{{12}}\.)"
_TWELVE_PAT = rf"(?:{_split_prefix(12)}|\d{{12}}\.\.)"

#: (pattern, converter) for each EPC URN form; the converter gets the part after the scheme.
_EPC_FORMS: list[tuple[re.Pattern[str], Callable[[str], str]]] = [
    (
        _id_with_prefix("id:sgtin", rf"{_split_prefix(13)}\.{_C}{{1,20}}"),
        lambda b: f"01/{_gtin(b)}/21/{_encode(b[15:])}",
    ),
    (_id_with_prefix("id:sscc", _split_prefix(17)), lambda b: f"00/{_sscc(b)}"),
    (_id_with_prefix("id:sgln", rf"{_TWELVE}\.{_C}{{1,20}}"), _sgln),
    (
        _id_with_prefix("id:grai", rf"{_TWELVE_PAT}\.{_C}{{1,16}}"),
        lambda b: f"8003/{_company_number(b, 12, lead='0')}{_encode(b[14:])}",
    ),
    (
        _id_with_prefix("id:giai", _short_prefixed(30, _C)),
        lambda b: f"8004/{b[: b.index('.')]}{_encode(_after_first_dot(b))}",
    ),
    (_id_with_prefix("id:gsrn", _split_prefix(17)), lambda b: f"8018/{_company_number(b, 17)}"),
    (_id_with_prefix("id:gsrnp", _split_prefix(17)), lambda b: f"8017/{_company_number(b, 17)}"),
    (
        _id_with_prefix("id:gdti", rf"{_TWELVE_PAT}{_C}{{1,20}}"),
        lambda b: f"253/{_company_number(b, 12)}{_encode(b[14:])}",
    ),
    (
        _id_with_prefix("id:cpi", _short_prefixed(30, _CPI_C) + r"\.\d{1,12}"),
        lambda b: f"8010/{_encode(_cpi(b))}/8011/{b[b.rindex('.') + 1 :]}",
    ),
    (_id_with_prefix("id:sgcn", rf"{_TWELVE}\.\d{{1,12}}"), lambda b: f"255/{_company_number(b, 12)}{b[14:]}"),
    (
        _id_with_prefix("id:ginc", _short_prefixed(30, _C)),
        lambda b: f"401/{b[: b.index('.')]}{_encode(_after_first_dot(b))}",
    ),
    (_id_with_prefix("id:gsin", _split_prefix(16)), lambda b: f"402/{_company_number(b, 16)}"),
    (
        _id_with_prefix("id:itip", rf"{_split_prefix(13)}\.\d{{2}}\.\d{{2}}\.{_C}{{1,20}}"),
        lambda b: f"8006/{_gtin(b)}{b[15:17]}{b[18:20]}/21/{_encode(b[21:])}",
    ),
    (
        _id_with_prefix("id:upui", rf"{_split_prefix(13)}\.{_C}{{1,28}}"),
        lambda b: f"01/{_gtin(b)}/235/{_encode(b[15:])}",
    ),
    (_id_with_prefix("id:pgln", _TWELVE), lambda b: f"417/{_company_number(b, 12)}"),
    (
        _id_with_prefix("class:lgtin", rf"{_split_prefix(13)}\.{_C}{{1,20}}"),
        lambda b: f"01/{_gtin(b)}/10/{_encode(b[15:])}",
    ),
    (_id_with_prefix("idpat:sgtin", rf"{_split_prefix(13)}\.\*"), lambda b: f"01/{_gtin(b)}"),
    (_id_with_prefix("idpat:grai", rf"{_TWELVE_PAT}\.\*"), lambda b: f"8003/{_company_number(b, 12, lead='0')}"),
    (_id_with_prefix("idpat:gdti", rf"{_TWELVE_PAT}\.\*"), lambda b: f"253/{_company_number(b, 12)}"),
    (_id_with_prefix("idpat:sgcn", rf"{_TWELVE_PAT}\.\*"), lambda b: f"255/{_company_number(b, 12)}"),
    (_id_with_prefix("idpat:cpi", _short_prefixed(30, _CPI_C) + r"\.\*"), lambda b: f"8010/{_encode(_cpi(b))}"),
    (
        _id_with_prefix("idpat:itip", rf"{_split_prefix(13)}\.\d{{2}}\.\d{{2}}\.\*"),
        lambda b: f"8006/{_gtin(b)}{b[15:17]}{b[18:20]}",
    ),
    (_id_with_prefix("idpat:upui", rf"{_split_prefix(13)}\.\*"), lambda b: f"01/{_gtin(b)}"),
]

_KEY_AIS = "01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004"
_SHORT_NAMES = "gtin|itip|cpid|gln|party|gsrnp|gsrn|gcn|sscc|gdti|ginc|gsin|grai|giai"
_ANY_DL = re.compile(
    r"https?:(//((([^/?#]*)@)?([^/?#:]*)(:([^/?#]*))?))?((([^?#]*)(/("
    + _KEY_AIS
    + "|"
    + _SHORT_NAMES
    + r")/)(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(/[A-Za-z_-]{10}$))"
)
_CANONICAL_DL = re.compile(
    r"https://id.gs1.org/("
    + _KEY_AIS
    + r")/(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?|(/[A-Za-z_-]{10}$)"
)
_SHORT_TO_AI = (
    ("/gtin/", "/01/"),
    ("/itip/", "/8006/"),
    ("/cpid/", "/8010/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"),
    ("/gsrn/", "/8018/"),
    ("/gcn/", "/255/"),
    ("/sscc/", "/00/"),
    ("/gdti/", "/253/"),
    ("/ginc/", "/401/"),
    ("/gsin/", "/402/"),
    ("/grai/", "/8003/"),
    ("/giai/", "/8004/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
)
#: The order in which the reference looks for the primary key when re-hosting a URI.
_REHOST_ORDER = ("00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017", "8018")
_CPV_LAST = (
    rf"https://id.gs1.org/8006/\d{{18}}/22/({_V}{{0,20}})$",
    rf"https://id.gs1.org/01/\d{{14}}/22/({_V}{{0,20}})$",
)
_CPV_INNER = (
    rf"https://id.gs1.org/8006/\d{{18}}/22/([\x2F]|{_V}){{0,20}}$",
    rf"https://id.gs1.org/01/\d{{14}}/22/([\x2F]|{_V}){{0,20}}$",
)
_LOT_AND_SERIAL = (
    rf"https://id.gs1.org/8006/\d{{18}}/10/({_V}{{0,20}})/21/({_V}{{0,20}})$",
    rf"https://id.gs1.org/01/(\d{{14}})/10/({_V}{{0,20}})/21/({_V}{{0,20}})$",
)
_VALID_OUTPUT = re.compile(
    "|".join(
        f"(?:{p})"
        for p in (
            r"https://id.gs1.org/00/(\d{18})$",
            rf"https://id.gs1.org/01/(\d{{14}})/21/({_V}{{0,20}})$",
            rf"https://id.gs1.org/01/(\d{{14}})/10/({_V}{{0,20}})$",
            r"https://id.gs1.org/01/(\d{14})$",
            rf"https://id.gs1.org/01/(\d{{14}})/235/({_V}{{0,28}})$",
            rf"https://id.gs1.org/253/(\d{{13}})({_V}{{0,17}})$",
            r"https://id.gs1.org/255/(\d{13})(\d{0,12})$",
            rf"https://id.gs1.org/401/({_V}{{0,30}})$",
            r"https://id.gs1.org/402/(\d{17})$",
            r"https://id.gs1.org/414/(\d{13})$",
            rf"https://id.gs1.org/414/(\d{{13}})/254/({_V}{{0,20}})$",
            r"https://id.gs1.org/417/(\d{13})$",
            rf"https://id.gs1.org/8003/(\d{{14}})({_V}{{0,16}})$",
            rf"https://id.gs1.org/8004/({_V}{{0,30}})$",
            rf"https://id.gs1.org/8006/(\d{{18}})/21/({_V}{{0,20}})$",
            rf"https://id.gs1.org/8006/(\d{{18}})/10/({_V}{{0,20}})$",
            r"https://id.gs1.org/8006/(\d{18})$",
            r"https://id.gs1.org/8010/([\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30})/8011/(\d{0,12})$",
            r"https://id.gs1.org/8010/([\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30})$",
            r"https://id.gs1.org/8017/(\d{18})$",
            r"https://id.gs1.org/8018/(\d{18})$",
        )
    )
)


def _epc_to_dl(uri: str) -> str | None:
    for pattern, convert in _EPC_FORMS:
        if pattern.fullmatch(uri):
            return _BASE + convert(uri.split(":", 4)[4])  # after urn:epc:{family}:{scheme}:
    return None


def _constrain_dl(uri: str) -> str | None:
    """Re-host, re-name, pad, strip CPV and lot-with-serial; None unless the result is valid."""
    if _ANY_DL.match(uri) is None:
        return None
    uri = uri.split("?", 1)[0]
    for short_name, ai in _SHORT_TO_AI:
        uri = uri.replace(short_name, ai)
    if _CANONICAL_DL.match(uri) is None:
        for ai in _REHOST_ORDER:
            at = uri.find(f"/{ai}/")
            if at != -1:
                uri = "https://id.gs1.org" + uri[at:]
                break
    if re.match(r"https://id.gs1.org/01/\d{14}", uri) is None:
        for digits, padding in ((13, "0"), (12, "00"), (8, "000000")):
            if re.match(rf"https://id.gs1.org/01/\d{{{digits}}}", uri):
                uri = uri.replace("/01/", "/01/" + padding)
                break
    after_cpv = uri[uri.find("/22/") + 4 :]
    if any(re.match(p, uri) for p in _CPV_LAST):
        uri = uri[: uri.find("/22/")] + after_cpv[after_cpv.find("/") : -1]
    if any(re.match(p, uri) for p in _CPV_INNER):
        uri = uri[: uri.find("/22/")] + after_cpv[after_cpv.find("/") :]
    if any(re.match(p, uri) for p in _LOT_AND_SERIAL):
        after_lot = uri[uri.find("/10/") + 4 :]
        uri = uri[: uri.find("/10/")] + after_lot[after_lot.find("/") :]
    return uri if _VALID_OUTPUT.match(uri) else None


def canonical_dl(uri: str) -> str | None:
    """The canonical GS1 Digital Link URI of a GS1-keyed URI, or None for any other value.

    >>> canonical_dl("urn:epc:id:sgtin:0614141.107346.2017")
    'https://id.gs1.org/01/10614141073464/21/2017'
    >>> canonical_dl("https://example.com/gtin/614141073467/ser/2017?linkType=all")
    'https://id.gs1.org/01/00614141073467/21/2017'
    """
    if "." not in uri:  # the reference's first test: no GS1 URI lacks a dot
        return None
    if uri.startswith("urn:epc:"):
        return _epc_to_dl(uri)
    return _constrain_dl(uri)
