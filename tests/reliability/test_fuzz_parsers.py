"""Every parser meets mangled input with a typed error or rejects, never another exception.

The inputs are real documents and valid barcodes, mutated: bytes cut, repeated and
replaced, values swapped for odd ones, structure broken, plus tokens that trip parsers
(separators, brackets, invalid UTF-8, lone surrogates, NULs, spreadsheet formulas).

Reproducible: hypothesis runs derandomized, so CI sees the same examples every run.
``TRACEGRAPH_FUZZ_EXAMPLES`` raises the number of examples per test for a longer soak
(``TRACEGRAPH_FUZZ_EXAMPLES=5000 pytest tests/reliability/test_fuzz_parsers.py``).
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from cli.commands.udi import barcode_text
from loaders.base import ParseResult
from loaders.csvset.reader import parse_csv_text
from loaders.epcis import parse_epcis
from loaders.mapping import load_mapping, parse_mapped
from loaders.synthetic import generate_plant
from schema.errors import TraceGraphError
from schema.identifiers import canonical_key
from schema.udi import GS, UdiParse, parse_udi
from tests.conftest import shared_data

ROOT = Path(__file__).resolve().parents[2]
EPCIS_DATA = (shared_data() or ROOT.parent / "shared" / "data") / "epcis"
EXAMPLES = int(os.environ.get("TRACEGRAPH_FUZZ_EXAMPLES", "150"))

fuzz = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- seeds ---------------------------------------------------------------------------

BARCODES = [
    "]d201095060001343521725010010L1\x1d21S1",
    "01095060001343521725010010L1" + GS + "21S1",
    "(01)09506000134352(17)250131(10)L1(21)S/1",
    "(00)106141412345678908",
    "(414)0614141123452(254)A/1",
    "https://id.gs1.org/01/09506000134352/10/L1/21/S1?17=250131",
    "https://example.com/01/09506000134352/21/S%2F1",
    "+A99912345/$$52001510X3/16D20111212/S77DEFG457",
    "+A123BJC5D6E71/$$3251328LOT1",
    "+A123BJC5D6E71\n+$$3251328LOT1/S1",
    "(01)09506000134352\n+A99912345/$$52001510X3",
    "]C1010950600013435210L1|]e0(21)S1",
    "MA.0123456789.SN1",
    "<udi><di>09506000134352</di><lot>L1</lot></udi>",
]
KEYS = [
    "01/09506000134352/21/S1",
    "01/09506000134352/10/L1",
    "00/106141412345678908",
    "414/0614141123452",
    "urn:epc:id:sgtin:0614141.112345.400",
    "urn:epc:id:sscc:0614141.1234567890",
    "wo:WO-1",
    "https://id.gs1.org/01/09506000134352/21/S1",
]
#: What trips parsers: separators, brackets, escapes, quotes, formulas, bad code points.
ODD_TEXT = [
    GS,
    "\x1e",
    "\x04",
    "\x00",
    "\n",
    "\r",
    "\t",
    "|",
    "(",
    ")",
    "((",
    "/",
    "//",
    "?",
    "&",
    "=",
    "%",
    "%zz",
    "%00",
    "+",
    "$$",
    "$$+",
    "]d2",
    "]C1",
    "]e0",
    "]Q3",
    "<",
    ">",
    "<!--",
    "&amp;",
    '"',
    "'",
    ",",
    ";",
    "\\",
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "-1",
    "0",
    "9" * 40,
    "é",
    "\u2028",
    "\ufeff",
    "\udce9",
    "\ud800",
    "𝟘",
    "null",
    "[]",
    "{}",
    "..",
    "../",
]
ODD_BYTES = [t.encode("utf-8", "surrogatepass") for t in ODD_TEXT] + [
    b"\xff",
    b"\xc3",
    b"\xe9",
    b"\xef\xbb\xbf",
    b"<![CDATA[",
    b"]]>",
    b"<!DOCTYPE x>",
    b"</",
    b"/>",
    b"xmlns:x='urn:x'",
    b"\\u0000",
    b"\\ud800",
    b"1e999",
    b"-0",
    b"true",
    b"2024-02-30T10:00:00Z",
    b"9999-12-31T24:00:00+14:00",
]


@functools.cache
def epcis_documents() -> list[tuple[str, bytes]]:
    found = sorted(
        p
        for p in EPCIS_DATA.rglob("*")
        if p.is_file() and p.suffix in {".json", ".jsonld", ".xml"} and "Document" in str(p)
    )
    assert found, f"no EPCIS documents under {EPCIS_DATA} (see /work/shared/data/SOURCES.md)"
    return [(p.name, p.read_bytes()) for p in found if p.stat().st_size < 64_000]


def json_documents() -> list[tuple[str, bytes]]:
    return [d for d in epcis_documents() if d[0].endswith((".json", ".jsonld"))]


def xml_documents() -> list[tuple[str, bytes]]:
    return [d for d in epcis_documents() if d[0].endswith(".xml")]


@functools.cache
def plant_files() -> list[tuple[str, str]]:
    directory = Path(tempfile.mkdtemp(prefix="tracegraph-fuzz-")) / "plant"
    generate_plant(directory, scale="small", seed=5)
    files = []
    for path in sorted(directory.glob("*.csv")):
        lines = path.read_text().splitlines(keepends=True)
        files.append((path.name, "".join(lines[:40])))  # the header and a few rows
    return files


@functools.cache
def mappings() -> list[tuple[Path, Path]]:
    pairs = []
    for export in sorted((ROOT / "mappings" / "examples").glob("*.csv")):
        spec = ROOT / "mappings" / f"{export.stem}.yaml"
        if spec.exists():
            pairs.append((spec, export))
    assert pairs, "no mapping with a CSV example under mappings/"
    return pairs


# --- mutations -----------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, seed: str | bytes, odd: list[Any], *, most: int = 4) -> Any:
    """``seed`` after one to ``most`` edits: a cut, a repeat, an insert or a replacement."""
    value: Any = seed
    for _ in range(draw(st.integers(1, most))):
        n = len(value)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 64)))
        edit = draw(st.sampled_from(["cut", "repeat", "insert", "replace", "truncate"]))
        piece = draw(st.sampled_from(odd)) if draw(st.booleans()) else value[i:j]
        if edit == "cut":
            value = value[:i] + value[j:]
        elif edit == "repeat":
            value = value[:j] + value[i:j] * draw(st.integers(2, 50)) + value[j:]
        elif edit == "insert":
            value = value[:i] + piece + value[i:]
        elif edit == "replace":
            value = value[:i] + piece + value[j:]
        else:
            value = value[:i]
    return value


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from([t for t in ODD_TEXT if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            paths += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            paths += _paths(v, (*here, i))
    return paths


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    """A real EPCIS JSON-LD document with values replaced, deleted or retyped at random places."""
    _, raw = draw(st.sampled_from(json_documents()))
    doc = json.loads(raw)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            parent[path[-1]] = draw(JSON_VALUES)
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return json.dumps(doc).encode()


@st.composite
def mutated_xml(draw: st.DrawFn) -> bytes:
    """A real EPCIS XML document with elements' text, attributes or presence changed."""
    _, raw = draw(st.sampled_from(xml_documents()))
    root = etree.fromstring(raw)
    for _ in range(draw(st.integers(1, 4))):
        elements = list(root.iter(etree.Element))
        element = draw(st.sampled_from(elements))
        edit = draw(st.sampled_from(["text", "attribute", "remove", "duplicate", "empty"]))
        text = draw(st.sampled_from(ODD_TEXT) | st.text(max_size=20))
        text = "".join(c for c in text if c in "\t\n\r" or (ord(c) >= 0x20 and not 0xD800 <= ord(c) <= 0xDFFF))
        parent = element.getparent()
        if edit == "text":
            element.text = text
        elif edit == "attribute":
            element.set(draw(st.sampled_from(["type", "unit", "id", "schemaVersion", "creationDate"])), text)
        elif edit == "remove" and parent is not None:
            parent.remove(element)
        elif edit == "duplicate" and parent is not None:
            parent.append(etree.fromstring(etree.tostring(element)))
        else:
            element.clear()
    return bytes(etree.tostring(root))


# --- checks --------------------------------------------------------------------------


def only_typed(call: Any, *args: Any) -> Any:
    """Call the parser; a TraceGraphError is a fine answer, any other exception fails."""
    try:
        return call(*args)
    except TraceGraphError as exc:
        assert str(exc), "a typed error needs a message"
        return exc


def check_parse_result(result: object) -> None:
    if isinstance(result, ParseResult):
        assert all(r.reason for r in result.rejects), "every reject says why"


# --- barcodes ------------------------------------------------------------------------


@fuzz
@given(st.sampled_from(BARCODES).flatmap(lambda seed: mutated(seed, ODD_TEXT)))
def test_udi_parse_never_raises(text: str) -> None:
    parsed = parse_udi(barcode_text(text))
    assert isinstance(parsed, UdiParse)
    assert parsed.valid or parsed.errors, "an invalid barcode says why"


@fuzz
@given(st.text(max_size=200))
def test_udi_parse_never_raises_on_random_text(text: str) -> None:
    parsed = parse_udi(text)
    assert parsed.valid or parsed.errors


@fuzz
@given(st.sampled_from(KEYS + BARCODES).flatmap(lambda seed: mutated(seed, ODD_TEXT)))
def test_keys_are_canonical_or_refused_with_a_typed_error(text: str) -> None:
    only_typed(canonical_key, text)


# --- EPCIS ---------------------------------------------------------------------------


@fuzz
@given(st.sampled_from(epcis_documents()).flatmap(lambda doc: mutated(doc[1], ODD_BYTES)))
def test_epcis_bytes_mangled(data: bytes) -> None:
    check_parse_result(only_typed(lambda d: parse_epcis(d, source="fuzz"), data))


@fuzz
@given(mutated_json())
def test_epcis_json_ld_with_odd_values(data: bytes) -> None:
    check_parse_result(only_typed(lambda d: parse_epcis(d, source="fuzz.jsonld"), data))


@fuzz
@given(mutated_xml())
def test_epcis_xml_with_odd_content(data: bytes) -> None:
    check_parse_result(only_typed(lambda d: parse_epcis(d, source="fuzz.xml"), data))


# --- CSV sets and mappings ---------------------------------------------------------


@fuzz
@given(st.sampled_from(plant_files()).flatmap(lambda f: st.tuples(st.just(f[0]), mutated(f[1], ODD_TEXT))))
def test_csv_files_mangled(file: tuple[str, str]) -> None:
    name, text = file
    check_parse_result(only_typed(parse_csv_text, name, text))


@fuzz
@given(st.sampled_from(mappings()).flatmap(lambda m: st.tuples(st.just(m[0]), mutated(m[1].read_text(), ODD_TEXT))))
def test_mapped_exports_mangled(case: tuple[Path, str]) -> None:
    spec, text = case
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.csv"
        export.write_text(text, encoding="utf-8", errors="surrogatepass")  # invalid UTF-8 on disk
        check_parse_result(only_typed(parse_mapped, export, spec))


@fuzz
@given(st.sampled_from(mappings()).flatmap(lambda m: st.tuples(st.just(m[1]), mutated(m[0].read_text(), ODD_TEXT))))
def test_mappings_mangled(case: tuple[Path, str]) -> None:
    export, text = case
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "mapping.yaml"
        spec.write_text(text, encoding="utf-8", errors="surrogatepass")  # invalid UTF-8 on disk
        compiled = only_typed(load_mapping, spec)
        if not isinstance(compiled, TraceGraphError):
            check_parse_result(only_typed(parse_mapped, export, compiled))


@pytest.mark.parametrize("name", ["bom.csv", "../bom.csv", "bom.csv\x00.txt", "", ".", "BOM.CSV"])
def test_csv_names_are_recognised_or_refused(name: str) -> None:
    check_parse_result(only_typed(parse_csv_text, name, "a,b\n1,2\n"))


@pytest.mark.parametrize("pattern", ["%d.%m.%m %H:%M", "%d.%Q.%Y", "%d.%m.%Y %"])
def test_a_mapping_with_an_unusable_date_pattern_is_refused_when_loaded(pattern: str, tmp_path: Path) -> None:
    """Found by test_mappings_mangled: ``%m`` twice made strptime raise re.error mid-load."""
    spec = ROOT / "mappings" / "erp-batch-where-used.yaml"
    text = spec.read_text()
    assert '"%d.%m.%Y %H:%M"' in text
    mangled = tmp_path / "mapping.yaml"
    mangled.write_text(text.replace('"%d.%m.%Y %H:%M"', f'"{pattern}"'))
    with pytest.raises(TraceGraphError, match="not a usable strptime pattern"):
        load_mapping(mangled)


def test_a_csv_row_with_a_lone_surrogate_is_read_not_crashed_on() -> None:
    """Found by test_csv_files_mangled: text decoded with surrogateescape crashed the record hash."""
    result = parse_csv_text("suppliers.csv", "supplier,name\nsupplier:X1,Caf\udce9\n")
    assert result.records == 1 and not result.rejects
    assert result.nodes[0].provenance.record_hash
