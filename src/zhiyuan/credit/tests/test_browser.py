"""The consent journey in a real Chromium (Playwright, the distribution's /usr/bin/chromium), in English:
a firm with a credit score authorises the bank on its credit page; the bank opens the report from its
list of consents; the firm sees the read in its access log and revokes the consent; the bank's next
request for the same report is answered 404, and the firm sees that refusal logged too.

Set ZHIYUAN_SCREENSHOTS to a directory to keep a screenshot of each page on the way."""

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from zhiyuan.accounts.personas import BANK_ORG
from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.credit.models import (
    Consent,
    CreditScore,
    Feed,
    FeedLoad,
    HeadcountRecord,
    ReportAccess,
    ScoreModel,
    ScoringRun,
    TaxRecord,
)

pytestmark = BROWSER_TEST_MARKS

REASON = "Social-insurance headcount fell 38% in the last 12 months"


def _shot(page, name: str) -> None:
    folder = os.environ.get("ZHIYUAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, username: str) -> None:
    """Sign in afresh, with the interface in English."""
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/")


def _give_score(enterprise, today: dt.date) -> CreditScore:
    """Feed records and a score from a (minimal) model run, so the report has content."""
    tax = FeedLoad.objects.create(feed=Feed.TAX, source="区税务局", channel="file", rows=1)
    TaxRecord.objects.create(enterprise=enterprise, load=tax, year=today.year - 1, grade="B", tax_paid=Decimal("320"))
    insured = FeedLoad.objects.create(feed=Feed.HEADCOUNT, source="区人社局", channel="api", rows=2)
    for months_back, headcount in ((13, 195), (1, 121)):
        month = (today.replace(day=1) - dt.timedelta(days=28 * months_back)).replace(day=1)
        HeadcountRecord.objects.create(enterprise=enterprise, load=insured, month=month, headcount=headcount)
    model = ScoreModel.objects.create(
        version=1, spec={}, sample_size=800, bad_count=70, auc=0.81, ks=0.47, is_active=True
    )
    run = ScoringRun.objects.create(model=model, as_of=today, finished_at=timezone.now(), firms=1)
    return CreditScore.objects.create(
        enterprise=enterprise,
        run=run,
        as_of=today,
        points=612,
        pd=0.015,
        grade="BBB",
        reasons=[{"code": "HEADCOUNT_CHANGE", "value": -38.0, "points_lost": 14.2}],
        features={"headcount": 121, "headcount_change": -38.0},
    )


def test_firm_grants_bank_reads_firm_sees_the_log_revokes_bank_gets_404(page, live_server, personas, firm_a):
    from playwright.sync_api import expect

    today = timezone.localdate()
    _give_score(firm_a, today)
    until = today + dt.timedelta(days=90)

    # The firm opens its credit page: its own report, no bank authorised, nobody has read it.
    _sign_in(page, live_server, "firm_a")
    page.goto("/credit/")
    page.wait_for_url(f"{live_server.url}/credit/my/")
    expect(page.get_by_role("heading", name="My credit report")).to_be_visible()
    expect(page.get_by_test_id("points")).to_contain_text("612")
    expect(page.get_by_test_id("reasons")).to_contain_text(REASON)
    expect(page.get_by_test_id("consents")).to_contain_text("No bank is authorised to read your report.")
    expect(page.get_by_test_id("access-table")).to_contain_text("No bank has asked for the report.")
    _shot(page, "01-firm-credit-page")

    # It authorises the bank for loan approval.
    form = page.get_by_test_id("consent-form")
    form.locator("select[name=bank]").select_option(label=BANK_ORG)
    form.locator("select[name=purpose]").select_option("loan_approval")
    form.locator("input[name=valid_until]").fill(until.isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/credit/my/#consents")
    expect(page.get_by_text(f"{BANK_ORG} may read your credit report")).to_be_visible()
    row = page.get_by_test_id("consents").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(BANK_ORG)
    expect(row).to_contain_text("Loan approval")
    expect(row).to_contain_text(until.isoformat())
    expect(row).to_contain_text("in force")
    consent = Consent.objects.get()
    assert (consent.enterprise, consent.bank, consent.valid_from, consent.valid_until) == (
        firm_a,
        personas["bank"].organisation,
        today,
        until,
    )
    _shot(page, "02-firm-consent-given")

    # The bank finds the firm among its consents and opens the report by clicking.
    _sign_in(page, live_server, "bank")
    page.goto("/credit/bank/")
    live = page.get_by_test_id("live-consents")
    expect(live).to_contain_text(firm_a.name)
    expect(live).to_contain_text("Loan approval")
    _shot(page, "03-bank-consents")
    live.get_by_test_id("open-report").click()
    page.wait_for_url(f"{live_server.url}/credit/reports/{firm_a.uscc}/?purpose=loan_approval")
    report_url = page.url
    expect(page.get_by_test_id("report-title")).to_contain_text(firm_a.name)
    expect(page.get_by_test_id("consent-info")).to_contain_text("Read under the firm's consent for Loan approval")
    expect(page.get_by_test_id("points")).to_contain_text("612")
    expect(page.get_by_test_id("reasons")).to_contain_text(REASON)
    expect(page.get_by_text("区税务局").first).to_be_visible()
    _shot(page, "04-bank-reads-report")
    access = ReportAccess.objects.get()
    assert (access.enterprise, access.user, access.purpose, access.granted, access.consent) == (
        firm_a,
        personas["bank"],
        "loan_approval",
        True,
        consent,
    )

    # The firm sees the read in its log, then revokes the consent.
    _sign_in(page, live_server, "firm_a")
    page.goto("/credit/my/")
    log = page.get_by_test_id("access-table")
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log).to_contain_text(BANK_ORG)
    expect(log).to_contain_text("Loan approval")
    expect(log).to_contain_text("granted")
    _shot(page, "05-firm-sees-the-read")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("revoke-form").locator("button[type=submit]").click()
    expect(page.get_by_text("its next request is refused")).to_be_visible()
    expect(page.get_by_test_id("consents").locator("tbody tr")).to_contain_text("revoked")
    expect(page.get_by_test_id("revoke-form")).to_have_count(0)
    consent.refresh_from_db()
    assert consent.revoked_by == personas["firm_a"]
    _shot(page, "06-firm-revoked")

    # The bank's next request for the same report: 404, and nothing left on its list.
    _sign_in(page, live_server, "bank")
    response = page.goto(report_url)
    assert response.status == 404
    expect(page.get_by_text(REASON)).to_have_count(0)
    expect(page.get_by_text(firm_a.name)).to_have_count(0)
    assert page.failed_requests == [report_url]
    page.failed_requests.clear()
    _shot(page, "07-bank-refused")
    page.goto("/credit/bank/")
    expect(page.get_by_test_id("live-consents")).to_contain_text("No firm has authorised your bank at present.")
    refused = ReportAccess.objects.order_by("-id").first()
    assert (refused.granted, refused.consent, refused.purpose) == (False, None, "loan_approval")

    # The firm's log shows the refusal as well.
    _sign_in(page, live_server, "firm_a")
    page.goto("/credit/my/#access-log")
    rows = page.get_by_test_id("access-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("refused")
    expect(rows.last).to_contain_text("granted")
    _shot(page, "08-firm-sees-the-refusal")

    assert page.failed_requests == []
    assert page.script_errors == []
