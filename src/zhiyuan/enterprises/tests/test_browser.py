"""The specialist's journey through the registry in a real Chromium (Playwright, the distribution's
/usr/bin/chromium): sign in, search 株硬, open the firm, edit a field, see the change in 变更记录."""

import re

from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.core.models import AuditEntry

pytestmark = BROWSER_TEST_MARKS

# Counts HTMX requests in this document, to wait until the search box's requests are all done.
HTMX_COUNTER = """() => {
  window.__htmx = {inflight: 0, requests: 0, last: performance.now()};
  document.body.addEventListener("htmx:beforeRequest", () => {
    window.__htmx.inflight++; window.__htmx.requests++; window.__htmx.last = performance.now();
  });
  document.body.addEventListener("htmx:afterRequest", () => {
    window.__htmx.inflight--; window.__htmx.last = performance.now();
  });
}"""


def test_specialist_searches_edits_and_sees_the_change(page, live_server, personas, firm_a, firm_b, tmp_path):
    from playwright.sync_api import expect

    # Sign in through the form.
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    expect(page.get_by_role("button", name="登录")).to_be_visible()
    page.fill("#id_username", "zhuanyuan")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_test_id("role-badge")).to_have_text("企业服务专员")

    # The stylesheet and the scripts were served locally and applied.
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert page.evaluate("() => typeof window.bootstrap") == "object"
    navbar_colour = page.evaluate("() => getComputedStyle(document.querySelector('nav.navbar')).backgroundColor")
    assert navbar_colour not in ("rgba(0, 0, 0, 0)", "transparent")

    # The list, then a search that HTMX runs without reloading the page.
    page.goto("/enterprises/")
    table = page.locator("#enterprise-table")
    expect(table).to_contain_text(firm_a.name)
    expect(table).to_contain_text(firm_b.name)
    page.evaluate(HTMX_COUNTER)
    page.fill("#id_q", "株硬")
    with page.expect_response(
        lambda r: "/enterprises/" in r.url and "q=" in r.url and r.request.headers.get("hx-request") == "true"
    ) as searched:
        page.press("#id_q", "Enter")
    assert searched.value.status == 200
    # Enter fires the form's change, submit and (400 ms later) keyup triggers: let them all finish.
    page.wait_for_function("() => window.__htmx.inflight === 0 && performance.now() - window.__htmx.last > 800")
    expect(table).not_to_contain_text(firm_b.name)
    expect(table).to_contain_text(firm_a.name)
    assert page.evaluate("() => window.__htmx.requests") >= 1  # still the same document: no page load
    expect(page).to_have_url(re.compile(r"[?&]q="))  # the search is in the address bar (hx-push-url)

    # The detail page, then the edit form.
    table.get_by_role("link", name=firm_a.name).click()
    page.wait_for_url(re.compile(rf".*/enterprises/{firm_a.pk}/$"))
    expect(page.get_by_test_id("enterprise-name")).to_have_text(firm_a.name)
    expect(page.get_by_test_id("staff")).to_have_text("5000")
    page.locator(f'a[href="/enterprises/{firm_a.pk}/edit/"]').click()
    page.wait_for_url(re.compile(rf".*/enterprises/{firm_a.pk}/edit/$"))
    page.fill("#id_staff", "4321")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(rf".*/enterprises/{firm_a.pk}/$"))
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.get_by_test_id("staff")).to_have_text("4321")

    # The change history tab shows staff 5000 → 4321 by the specialist.
    history_tab = page.get_by_test_id("history-tab")
    expect(history_tab).to_have_text("变更记录")
    history_tab.click()
    expect(history_tab).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator("#tab-history")).to_have_class(re.compile(r"\bshow\b"))
    # Bootstrap fades the pane in: wait until the user actually sees it.
    page.wait_for_function("() => getComputedStyle(document.querySelector('#tab-history')).opacity === '1'")
    expect(page.locator("#tab-overview")).to_be_hidden()
    history = page.get_by_test_id("history")
    expect(history).to_be_visible()
    latest = history.locator("tbody tr").first
    expect(latest).to_contain_text("陈专员")
    expect(latest).to_contain_text(re.compile(r"5000\s*→\s*4321"))
    page.screenshot(path=str(tmp_path / "history.png"), full_page=True)
    assert (tmp_path / "history.png").stat().st_size > 0

    assert not page.failed_requests, page.failed_requests
    entry = AuditEntry.objects.filter(action="enterprises.enterprise.updated").get()
    assert entry.actor == personas["specialist"]
    assert entry.changes == {"staff": [5000, 4321]}

