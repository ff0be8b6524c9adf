"""Languages: the catalogues cover every message in both languages, and the language is chosen per
user (``--lang``, ``TRACEGRAPH_LANG``) or per request (``Accept-Language``)."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from typer.testing import CliRunner

import i18n
import i18n.errors
from cli.main import app
from i18n import LANGUAGES, UnsupportedLanguageError, gettext, negotiate, ngettext, normalize, use_language
from i18n.catalogue import extract, read
from i18n.errors import error_message, title, translate_message
from schema.dictionary import EDGE_TYPES, EDGE_TYPES_ZH, NODE_KINDS, NODE_KINDS_ZH
from schema.errors import NotFoundError, TraceGraphError
from schema.kinds import EdgeType, NodeKind

_PLACEHOLDER = re.compile(r"\{(\w*)\}")
TRANSLATED = [language for language in LANGUAGES if language != i18n.DEFAULT_LANGUAGE]


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return extract()


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_in_the_code_is_in_the_catalogue_and_translated(language: str, extracted: Catalog) -> None:
    used = {m.id for m in extracted if m.id}
    assert len(used) > 150, "the extractor found the marked messages"
    catalog = read(language)
    held = {m.id: m for m in catalog if m.id}
    assert not used - held.keys(), f"not in {language}'s catalogue: run python -m i18n.catalogue"
    assert not held.keys() - used, f"{language}'s catalogue holds messages no code uses"
    for msgid, message in held.items():
        assert message.string, f"{language}: no translation of {msgid!r}"
        assert not message.fuzzy, f"{language}: fuzzy translation of {msgid!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = msgid if isinstance(msgid, tuple) else (msgid,)
        for text in strings:
            assert _placeholders(str(text)) == _placeholders(str(ids[0])), f"{language}: placeholders differ: {msgid!r}"


def test_english_is_the_source_language(extracted: Catalog) -> None:
    # English needs no catalogue: every message is its own English text, in any context.
    for message in extracted:
        if message.id and isinstance(message.id, str):
            assert gettext(message.id) == message.id


def test_the_catalogue_translates_and_falls_back() -> None:
    with use_language("zh-CN"):
        assert gettext("not found") == "未找到"
        assert gettext("a message nobody wrote") == "a message nobody wrote"
        assert ngettext("task", "tasks", 2) == "tasks"  # untranslated: English plural rules
    assert gettext("not found") == "not found"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("zh-Hans-CN,zh;q=0.9", "zh_Hans"),
        ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-CH, zh-CN;q=0.8, en;q=0.5", "zh_Hans"),
        ("zh-TW", "en"),  # Traditional Chinese has no catalogue: the default, not Simplified
        ("de, *;q=0.1", "en"),
        ("zh-CN;q=0, en", "en"),
        ("zh-CN;q=oops, en", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_unknown_languages_are_refused_with_a_typed_error() -> None:
    assert normalize("ZH_cn") == "zh_Hans" and normalize("中文") == "zh_Hans" and normalize("en-US") == "en"
    with pytest.raises(UnsupportedLanguageError, match="'fr' is not supported"):
        normalize("fr")
    with pytest.raises(UnsupportedLanguageError):
        normalize("zh-TW")


def test_error_messages_keep_their_english_and_translate_by_form() -> None:
    error = NotFoundError("no node with key wo:WO-404")
    assert error_message(error) == str(error) == "no node with key wo:WO-404"
    with use_language("zh"):
        assert error_message(error) == "没有键为 wo:WO-404 的节点"
        assert title("not_found") == "未找到"
        assert translate_message("GTIN 123 has check digit 4, expected 5") == "GTIN 123 的校验位为 4，应为 5"
        # A message of no known form is shown as it is.
        assert error_message(TraceGraphError("something new")) == "something new"


def test_every_error_form_has_a_translation_with_the_same_placeholders() -> None:
    catalog = {m.id: m.string for m in read("zh_Hans") if m.id}
    for form in i18n.errors.FORMS:
        assert _placeholders(str(catalog[form])) == _placeholders(form)


def test_the_cli_speaks_the_chosen_language(tmp_path: Path) -> None:
    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'empty.db'}"
    runner.invoke(app, ["--store", store, "migrate"])
    english = runner.invoke(app, ["--store", store, "show", "wo:WO-404"])
    assert english.exit_code == 3 and "no node with key wo:WO-404" in english.output
    chinese = runner.invoke(app, ["--store", store, "--lang", "zh", "show", "wo:WO-404"])
    assert chinese.exit_code == 3 and "错误" in chinese.output and "没有键为 wo:WO-404 的节点" in chinese.output
    by_setting = runner.invoke(app, ["--store", store, "stats"], env={"TRACEGRAPH_LANG": "zh-CN"})
    assert by_setting.exit_code == 0 and "节点" in by_setting.output and "合计" in by_setting.output
    refused = runner.invoke(app, ["--store", store, "--lang", "klingon", "stats"])
    assert refused.exit_code == 2 and "klingon" in refused.output


def test_the_data_dictionary_speaks_both_languages() -> None:
    for kind in NodeKind:
        assert NODE_KINDS_ZH[kind] and NODE_KINDS_ZH[kind] != NODE_KINDS[kind]
    for edge_type in EdgeType:
        assert EDGE_TYPES_ZH[edge_type] and EDGE_TYPES_ZH[edge_type] != EDGE_TYPES[edge_type].meaning
    runner = CliRunner()
    chinese = runner.invoke(app, ["dictionary", "--lang", "zh"])
    assert chinese.exit_code == 0 and chinese.output.startswith("# 数据字典")
    assert all(f"`{kind.value}` | {NODE_KINDS_ZH[kind]}" in chinese.output for kind in NodeKind)
    assert runner.invoke(app, ["--lang", "zh", "dictionary"]).output == chinese.output
    assert runner.invoke(app, ["dictionary"]).output.startswith("# Data dictionary")


@pytest.mark.parametrize("module", [i18n, i18n.errors])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted and not result.failed
