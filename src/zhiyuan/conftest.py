"""Shared test fixtures: the personas of DESIGN.md §2 and two firms to scope them by."""

import datetime as dt

import pytest
import time_machine
from django.core.servers.basehttp import WSGIServer
from django.test import Client
from django.test.testcases import LiveServerThread
from django.utils import timezone
from stdnum.cn import uscc as uscc_module

from zhiyuan.accounts.personas import PERSONAS, ensure_persona
from zhiyuan.enterprises.services import enterprise_create

PASSWORD = "test-pass-123"


def make_uscc(serial: int, region: str = "430202") -> str:
    """A valid USCC for tests: registration office 9 (市场监管), type 1 (企业), the region, a serial."""
    body = f"91{region}{serial:09d}"
    return body + uscc_module.calc_check_digit(body)


@pytest.fixture
def firm_a(db):
    return enterprise_create(
        actor=None,
        data={
            "uscc": make_uscc(1),
            "name": "株洲硬质合金集团有限公司",
            "short_name": "株硬集团",
            "industry": "3240",
            "staff": 5000,
            "revenue": 500000,
            "total_assets": 900000,
            "established_on": dt.date(1954, 1, 1),
            "contact_name": "张三",
            "contact_phone": "13812341234",
        },
    )


@pytest.fixture
def firm_b(db):
    return enterprise_create(
        actor=None,
        data={
            "uscc": make_uscc(2),
            "name": "株洲飞鹿高新材料技术股份有限公司",
            "short_name": "飞鹿股份",
            "industry": "2641",
            "staff": 400,
            "revenue": 30000,
            "contact_phone": "13987654321",
        },
    )


@pytest.fixture
def personas(db, firm_a, firm_b):
    """Every persona by key: admin, leader, investment, project, service_staff, specialist,
    window_clerk, statistics, firm_a, firm_b, bank, city."""
    firms = {"firm_a": firm_a, "firm_b": firm_b}
    return {p.key: ensure_persona(p, password=PASSWORD, enterprise=firms.get(p.key)) for p in PERSONAS}


@pytest.fixture
def login(personas):
    """login("specialist") → a test client signed in as that persona."""

    def _login(key: str) -> Client:
        client = Client()
        client.force_login(personas[key])
        return client

    return _login


# -- browser journeys (Playwright driving the distribution's Chromium) --------------------------------

# The live server answers one request at a time. Its threaded default lets a page's parallel HTMX and
# static requests reach the shared in-memory SQLite test database from several threads at once, where
# table locks (no busy timeout under shared cache) could leave a request waiting for ever.
class SerialWSGIServer(WSGIServer):
    """Django's WSGIServer (one request at a time) taking the live server thread's arguments; the thread
    itself installs the shared test database connection (`connections_override`)."""

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections_override = connections_override


LiveServerThread.server_class = SerialWSGIServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# For a browser module's `pytestmark`. The live server runs in a thread of its own, so the test needs
# real commits, and the rows data migrations load (industries, category rules) are restored after the flush.
BROWSER_TEST_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not __import__("pathlib").Path(CHROMIUM).exists(),
        reason=f"{CHROMIUM} is not installed (the Makefile installs it)",
    ),
]


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for the test."""
    # Playwright's sync API runs an event loop in this thread; the test's own database calls are
    # plain synchronous ones, so Django's async-safety check must let them through.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A page on the live server that records failed requests (`page.failed_requests`) and script
    errors (`page.script_errors`) so a journey can assert that nothing on the way broke."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    failed, errors = [], []

    def record(url: str) -> None:
        # Chromium probes /favicon.ico on its own; every other request comes from our pages.
        if not url.endswith("/favicon.ico"):
            failed.append(url)

    def request_failed(request) -> None:
        # An HTMX request still in flight when the user follows a link is aborted by the navigation.
        if request.resource_type in ("xhr", "fetch") and request.failure == "net::ERR_ABORTED":
            return
        # Chromium fetches the page icon after the load event; a quick next navigation aborts it.
        if request.resource_type == "other" and request.failure == "net::ERR_ABORTED" and "/favicon." in request.url:
            return
        record(request.url)

    page.on("requestfailed", request_failed)
    page.on("response", lambda response: record(response.url) if response.status >= 400 else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.failed_requests = failed
    page.script_errors = errors
    yield page
    context.close()


# -- data link ------------------------------------------------------------------------------------------


@pytest.fixture
def datalink_keys(tmp_path, settings):
    """Fresh key pairs for both sides of the data link in a temporary key directory (district.key,
    district.pub, city.key, city.pub), used by the district and by any citysim the test starts."""
    from zhiyuan.datalink import keys

    key_dir = tmp_path / "datalink-keys"
    keys.write_keypair(key_dir, "district")
    keys.write_keypair(key_dir, "city")
    settings.ZHIYUAN_DATALINK_KEY_DIR = key_dir
    keys.clear_key_cache()
    yield key_dir
    keys.clear_key_cache()


@pytest.fixture(autouse=True)
def _search_index_dir(settings, tmp_path):
    """Every test searches its own throwaway Tantivy index, never var/search-index."""
    from zhiyuan.catalog import indexing
    from zhiyuan.catalog.search import reset_backend

    settings.ZHIYUAN_SEARCH_INDEX_DIR = tmp_path / "search-index"
    reset_backend()
    indexing.forget()
    yield
    reset_backend()
    indexing.forget()


# -- runs that cross midnight --------------------------------------------------------------------------

# The day this process collected the tests (Asia/Shanghai). Modules marked `collection_day` compute
# dates when they are imported (TODAY = timezone.localdate()).
COLLECTION_DAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _collection_day(request):
    """Should a run cross local midnight (16:00 UTC) before a `collection_day` module's tests run, they
    run at noon of the day they were collected instead, so the module's dates and the code's "today"
    still agree. Any other run, and every other module, keeps the real clock."""
    if request.node.get_closest_marker("collection_day") is None or timezone.localdate() == COLLECTION_DAY:
        yield
        return
    noon = timezone.make_aware(dt.datetime.combine(COLLECTION_DAY, dt.time(12)))
    with time_machine.travel(noon, tick=True):
        yield

