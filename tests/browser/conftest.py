"""Browser tests: the app served on a real socket, with CSRF on, driven by headless Chromium.

The live server has its own app and its own SQLite file with the demo city loaded and committed,
so it is untouched by the per-test transaction of tests/conftest.py. Mark browser tests
``no_db`` (that transaction would only slow them down) and ``browser``.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config import BASE_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
ARTIFACTS = BASE_DIR / "test-artifacts"
# Chromium reports a CSP violation on the console too; this also keeps the details.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@dataclass
class LiveServer:
    url: str
    app: object


@dataclass
class BrowserLog:
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from chains.definitions import load_all
    from crm import create_app
    from crm.audit.log import acting_as
    from crm.demo import load_demo
    from crm.extensions import db
    from crm.catalog.service import sync_chains

    database = tmp_path_factory.mktemp("browser") / "browser.db"
    app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "WTF_CSRF_ENABLED": True, "SERVER_NAME": None,
    })
    with app.app_context():
        upgrade()
        with acting_as(db.session, None):
            sync_chains(load_all())
            load_demo()
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure_browser.sh (as root) to install Chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    playwright = sync_api.sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:  # a broken install should say so, not fail every test
        playwright.stop()
        pytest.skip(f"Chromium at {CHROMIUM} did not start ({error}); see scripts/ensure_browser.sh")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(browser, live_server, browser_log):
    """A fresh page (own cookies) on the live server; console errors and CSP violations fail the test."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("console", lambda message: _record_console(browser_log, message))
    page.on("pageerror", lambda error: browser_log.console_errors.append(str(error)))
    page.expose_function("__reportCspViolation", lambda text: browser_log.csp_violations.append(text))
    page.add_init_script(_CSP_LISTENER)
    try:
        yield page
    finally:
        context.close()
    assert browser_log.csp_violations == [], browser_log.csp_violations
    assert browser_log.console_errors == [], browser_log.console_errors


def _record_console(log: BrowserLog, message) -> None:
    if message.type != "error":
        return
    # The browser asks for /favicon.ico on its own; the site has no icon yet (no page links one).
    if (message.location or {}).get("url", "").endswith("/favicon.ico"):
        return
    log.console_errors.append(f"{message.text} ({(message.location or {}).get('url', '')})")


def sign_in(page, username: str, password: str | None = None) -> None:
    """Sign in through the login form as a demo user and wait for the dashboard."""
    from crm.demo import DEMO_PASSWORD

    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password or DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot to test-artifacts/ (gitignored) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
