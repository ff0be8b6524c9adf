"""The dashboard in Simplified Chinese and English: the switcher in the header, the choice kept
in this browser, the browser's own language as the default, and <html lang> following."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.conftest import LAPTOP, Served, shoot

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]

LOCALES = Path(__file__).resolve().parents[2] / "web" / "locales"


def route(*parts: str) -> str:
    return "/#/" + "/".join(quote(p, safe="") for p in parts)


ZH = json.loads((LOCALES / "zh-CN.json").read_text(encoding="utf-8"))
EN = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))


def test_switching_to_chinese_translates_the_main_views_and_is_remembered(page: Any, served: Served) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text(EN["overview.title"])
    page.select_option("#lang", "zh-CN")  # the header's switcher, labelled 中文
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("main h1")).to_have_text(ZH["overview.title"])
    expect(page.locator("#nav")).to_contain_text(ZH["nav.quality"])
    expect(page.locator("#q")).to_have_attribute("placeholder", ZH["search.placeholder"])
    expect(page.get_by_test_id("kpis")).to_contain_text(ZH["overview.kpis"])
    shoot(page, "overview-zh")

    page.reload()  # the choice is kept in this browser
    expect(page.locator("main h1")).to_have_text(ZH["overview.title"])
    expect(page.locator("#lang")).to_have_value("zh-CN")

    page.goto("/#/quality")
    expect(page.locator("main h1")).to_have_text(ZH["quality.title"])
    expect(page.get_by_test_id("scorecard").locator("thead")).to_contain_text(ZH["quality.col.supplier"])
    expect(page.get_by_test_id("spc-chart")).to_be_visible()
    page.goto("/#/audit")
    expect(page.locator("main h1")).to_have_text(ZH["audit.title"])
    expect(page.get_by_test_id("chain-status")).to_contain_text(ZH["audit.chain.intact"])

    lot = served.notable.finished_lot
    # The API hears the language too: its error messages (and documents) follow it.
    with page.expect_request(lambda r: "/api/v1/nodes/" in r.url) as asked:
        page.goto(route("node", lot))
    assert asked.value.headers.get("accept-language") == "zh-CN"
    expect(page.locator("#h-facts")).to_have_text(ZH["node.section.facts"])
    page.goto(route("graph", "forward", lot))
    expect(page.locator("svg.graph[data-ready='true']")).to_be_visible()
    expect(page.locator(".toolbar .segmented")).to_contain_text(ZH["node.forward"])
    expect(page.locator(".chips .chip").first).to_contain_text(ZH["kind.Device"])

    page.goto(route("recall", lot))
    expect(page.locator("#h-scope")).to_have_text(ZH["recall.scope"])
    page.goto("/#/alerts")
    expect(page.locator("main h1")).to_have_text(ZH["alerts.title"])
    expect(page.locator("#h-grade-critical")).to_contain_text(ZH["grade.critical"])
    page.goto(route("graph", "forward", lot))

    page.select_option("#lang", "en")  # and back, without a reload
    expect(page.locator(".toolbar .segmented")).to_contain_text(EN["node.forward"])
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize(("browser_locale", "expected"), [("zh-CN", "zh-CN"), ("zh-SG", "zh-CN"), ("de-CH", "en")])
def test_the_browser_language_is_the_default(browser: Any, served: Served, browser_locale: str, expected: str) -> None:
    context = browser.new_context(viewport=LAPTOP, base_url=served.url, locale=browser_locale)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("html")).to_have_attribute("lang", expected)
        title = (ZH if expected == "zh-CN" else EN)["overview.title"]
        expect(page.locator("main h1")).to_have_text(title)
    finally:
        context.close()
