"""The dashboard's message catalogues (web/locales): every message in every language, the same
placeholders in each, and every key the code asks for present."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from risk.signals.charts import RuleSystem
from risk.signals.spc import NELSON_RULES, WESTERN_ELECTRIC_RULES
from schema.alerts import AlertGrade, TaskState
from schema.kinds import NodeKind

WEB = Path(__file__).resolve().parents[2] / "web"
LOCALES = WEB / "locales"
LANGUAGES = ["en", "zh-CN"]
#: The plural categories Intl.PluralRules uses for cardinals in each language (CLDR).
PLURAL_FORMS = {"en": {"one", "other"}, "zh-CN": {"other"}}

# t("key" …) in the modules; data-i18n*="key" in the page.
CALL = re.compile(r"""\bt\(\s*["']([^"'`]+)["']""")
PAGE_ATTRIBUTE = re.compile(r'\bdata-i18n(?:-[a-z-]+)?="([^"]+)"')
NAV_ID = re.compile(r'\{\s*id:\s*"([\w-]+)"')


def catalogue(language: str) -> dict[str, Any]:
    data = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def placeholders(message: Any) -> set[str]:
    forms = message.values() if isinstance(message, dict) else [message]
    return {name for form in forms for name in re.findall(r"\{(\w+)\}", form)}


def used_keys() -> dict[str, str]:
    """Every key the dashboard asks for literally, with the file that asks: in a t() call, or as
    a string in a namespace of the catalogue (tables of keys handed to t() later)."""
    namespaces = sorted({key.split(".", 1)[0] for key in catalogue("en")})
    literal = re.compile(rf"""["']((?:{"|".join(namespaces)})\.[A-Za-z][\w.-]*)["']""")
    found = {}
    for module in sorted((WEB / "js").rglob("*.js")):
        text = module.read_text(encoding="utf-8")
        for key in CALL.findall(text) + literal.findall(text):
            found[key] = module.relative_to(WEB).as_posix()
    for key in PAGE_ATTRIBUTE.findall((WEB / "index.html").read_text(encoding="utf-8")):
        found[key] = "index.html"
    return found


def built_keys() -> set[str]:
    """Keys the code builds from a value (t(`nav.${id}`), t(`grade.${grade}`), …): one per value."""
    nav = (WEB / "js" / "views" / "index.js").read_text(encoding="utf-8").split("export const NAV", 1)[1]
    keys = {f"nav.{view}" for view in NAV_ID.findall(nav)}
    keys |= {f"grade.{grade.value}" for grade in AlertGrade}
    keys |= {f"kind.{kind.value}" for kind in NodeKind} | {f"kind.plural.{kind.value}" for kind in NodeKind}
    keys |= {f"quality.grade.{grade}" for grade in "ABCD"}
    keys |= {f"alerts.state.{state.value}" for state in TaskState}
    keys |= {f"quality.rules.{system.value}" for system in RuleSystem}
    keys |= {f"quality.rule.nelson.{rule}" for rule in NELSON_RULES}
    keys |= {f"quality.rule.western-electric.{rule}" for rule in WESTERN_ELECTRIC_RULES}
    return keys


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_message_with_the_same_placeholders(language: str) -> None:
    english, other = catalogue("en"), catalogue(language)
    assert sorted(set(english) - set(other)) == [], f"missing in {language}"
    assert sorted(set(other) - set(english)) == [], f"only in {language}"
    for key, message in other.items():
        assert placeholders(message) == placeholders(english[key]), key
        if isinstance(message, dict):
            assert set(message) == PLURAL_FORMS[language], f"{key}: plural forms of {language}"
        else:
            assert isinstance(message, str) and message.strip(), key


def test_every_key_the_dashboard_uses_exists() -> None:
    english = catalogue("en")
    used = used_keys()
    assert len(used) > 100, "the scan finds the views' messages"
    missing = {key: where for key, where in used.items() if key not in english}
    assert missing == {}
    assert sorted(built_keys() - set(english)) == []


def test_chinese_messages_are_chinese() -> None:
    """A key copied over untranslated would pass the other tests; Latin-only messages must be
    codes or units (R{rule}, p-value symbols), so each is listed here."""
    latin_only = {
        "overview.age.day",
        "overview.age.week",
        "overview.age.month",
        "overview.age.older",
    }
    han = re.compile(r"[\u4e00-\u9fff]")
    for key, message in catalogue("zh-CN").items():
        forms = message.values() if isinstance(message, dict) else [message]
        if key not in latin_only and not key.startswith("quality.rules."):
            assert all(han.search(form) for form in forms), key
