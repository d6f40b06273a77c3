"""Shared fixtures: isolated media, inline tasks, content factories and a real browser; and what
the suite needs to run on several cores (pytest-xdist, as CI runs it)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls we make beside it
# are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    from django.core.cache import cache

    cache.clear()  # rate limits and cached pages never leak from one test into the next
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://news.example.org"
    # Paper lookups never reach the internet: a test that wants answers serves them itself
    # (tests/paper_sources.py); elsewhere the lookup fails at once and manual entry remains.
    settings.ARXIV_API_URL = settings.CROSSREF_API_URL = settings.OPENREVIEW_API_URL = "http://127.0.0.1:9"
    settings.ARXIV_MIN_INTERVAL = 0
    # Password hashing is slow on purpose; tests log users in often.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright; skipped, with the reason, where it is missing."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser page that records console errors in `page.console_errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# Counts a test module reports on pytest's summary (tests/test_access_matrix.py: the cases it
# checked), so they show in every `make test` run.
SUMMARY_COUNTS = pytest.StashKey[dict]()


@pytest.fixture
def summary_count(request):
    """`summary_count(label, n)` adds n to the line "label: total" of pytest's terminal summary."""
    counts = request.config.stash.setdefault(SUMMARY_COUNTS, {})

    def add(label: str, number: int) -> None:
        counts[label] = counts.get(label, 0) + number

    return add


def pytest_terminal_summary(terminalreporter):
    for label, number in terminalreporter.config.stash.get(SUMMARY_COUNTS, {}).items():
        terminalreporter.write_line(f"{label}: {number}")


def pytest_sessionfinish(session):
    # Under pytest-xdist the tests run in worker processes: each hands its counts to the controller,
    # which prints their totals.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["summary_counts"] = session.config.stash.get(SUMMARY_COUNTS, {})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    counts = node.config.stash.setdefault(SUMMARY_COUNTS, {})
    for label, number in getattr(node, "workeroutput", {}).get("summary_counts", {}).items():
        counts[label] = counts.get(label, 0) + number


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)  # Chromium takes seconds to start and to render
        if item.get_closest_marker("own_databases"):
            item.add_marker(pytest.mark.slow)  # migrating databases and starting processes
        # With `--dist loadgroup` (CI's), the tests that make their own databases run one after
        # another on one worker per database vendor: each starts several processes and times what
        # they do, so more than two at once could starve each other past their deadlines.
        own = item.get_closest_marker("own_databases")
        if own and config.pluginmanager.hasplugin("xdist"):
            item.add_marker(pytest.mark.xdist_group(f"own_databases_{own_databases_vendor(item, own)}"))


def own_databases_vendor(item, marker) -> str:
    """The vendor an own_databases test's throwaway database uses: its `vendor` parameter, or the
    marker's argument (`@pytest.mark.own_databases("postgresql")`), else SQLite."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "vendor" in callspec.params:
        return str(callspec.params["vendor"])
    return str(marker.args[0]) if marker.args else "sqlite"
