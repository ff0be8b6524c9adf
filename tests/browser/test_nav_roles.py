"""The menu follows the signed-in role (GET /auth/session): an auditor, who may read the audit
trail but not the graph, alerts or quality views, sees the overview and the audit trail only; a
quality engineer sees the graph, alerts and quality views but not the recall or the audit trail.
A view the role cannot use, asked for by its address, says so instead of failing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from api.settings import ApiSettings
from schema.access import Role
from services.access import AccessControl
from services.app import Services
from tests.browser.conftest import serving, shoot, watched_page

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]


@dataclass
class Roles:
    url: str
    keys: dict[Role, str]


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    """An empty store behind a server in production mode, and a key for each role tried."""
    root = tmp_path_factory.mktemp("roles")
    settings = ApiSettings(store="sqlite:///" + str(root / "store.db"), environment="production")
    Services.build(settings, migrate=True).close()
    access = AccessControl.for_settings(settings)
    try:
        keys = {
            role: access.create_key(name=f"{role.value} user", role=role, actor="test").secret
            for role in (Role.AUDITOR, Role.QUALITY_ENGINEER)
        }
    finally:
        access.close()

    with serving(settings) as url:
        yield Roles(url=url, keys=keys)


@pytest.fixture
def fresh_page(browser: Any, roles: Roles) -> Iterator[Any]:
    """A browser with no cookie. The 401 before sign-in, and the 403s of the overview's figures the
    role may not read (it shows the others), are the only errors the console may show."""
    with watched_page(browser, roles.url) as pg:
        yield pg


def sign_in(page: Any, key: str) -> None:
    page.goto("/")
    expect(page.locator("form.login")).to_be_visible()
    expect(page.locator("#nav li")).to_have_count(0)  # nobody signed in: no menu
    page.fill("#login-key", key)
    page.keyboard.press("Enter")
    expect(page.locator("form.login")).to_have_count(0)


def test_an_auditor_sees_the_audit_trail_and_nothing_else(fresh_page: Any, roles: Roles) -> None:
    page = fresh_page
    sign_in(page, roles.keys[Role.AUDITOR])
    expect(page.get_by_test_id("kpis")).to_be_visible()
    expect(page.locator("#nav li")).to_have_text(["Overview", "Audit trail"])
    expect(page.locator("#search")).to_be_hidden()  # searching reads the graph
    page.locator("#nav a", has_text="Audit trail").click()
    expect(page).to_have_url(re.compile(r"#/audit$"))
    expect(page.get_by_test_id("chain-status")).to_be_visible()
    shoot(page, "nav-auditor")

    page.goto("/#/alerts")
    expect(page.locator("main [role=status], main .notice").first).to_have_text("Your role cannot open this view.")
    expect(page.locator("[data-task]")).to_have_count(0)


def test_a_quality_engineer_sees_the_graph_alerts_and_quality_views(fresh_page: Any, roles: Roles) -> None:
    page = fresh_page
    sign_in(page, roles.keys[Role.QUALITY_ENGINEER])
    expect(page.get_by_test_id("stat-nodes")).to_be_visible()
    expect(page.locator("#nav li")).to_have_text(["Overview", "Node", "Graph", "Alerts", "Quality"])
    expect(page.locator("#search")).to_be_visible()
    expect(page.locator("#nav a", has_text="Audit trail")).to_have_count(0)
