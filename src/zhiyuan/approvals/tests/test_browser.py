"""The approval desk's journey in a real Chromium (Playwright, the distribution's /usr/bin/chromium):
a firm starts a 建筑工程施工许可证 application from its project page, uploads the materials and submits;
the window asks for one correction; the firm corrects and resubmits; the window accepts and forwards
it; the city's acknowledgement and its 准予许可 callback arrive over the data link; the firm sees the
certificate and the window records the collection (出件).

The city side is played from the test thread by calling our own data-link services (delivery_record
with the city's reply, inbound_receive with a signed case.status message); the round trip through a
real city process is covered by the end-to-end tests.

Set ZHIYUAN_SCREENSHOTS to a directory to keep a screenshot of each page on the way."""

import os
import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from zhiyuan.approvals.models import Application, ApplicationStatus, Decision, EventKind
from zhiyuan.approvals.selectors import application_next_step
from zhiyuan.conftest import BROWSER_TEST_MARKS, PASSWORD
from zhiyuan.datalink import keys
from zhiyuan.datalink.adapters import DeliveryOutcome
from zhiyuan.datalink.log import log_verify
from zhiyuan.datalink.models import OutboxMessage, OutboxStatus
from zhiyuan.datalink.protocol import build_body, new_message_id, sign
from zhiyuan.datalink.services import delivery_record, inbound_receive

pytestmark = BROWSER_TEST_MARKS

S = ApplicationStatus
CASE_NUMBER = "ZZSP-2026-000123"
CERTIFICATE = "430202202611290101"


def _shot(page, name: str) -> None:
    folder = os.environ.get("ZHIYUAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_server.url}/")


def _sign_out(page, live_server) -> None:
    page.locator(f'form[action="{reverse("accounts:logout")}"] button[type=submit]').click()
    page.wait_for_url(f"{live_server.url}{reverse('accounts:login')}")


def _pdf(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"%PDF-1.4\n% " + name.encode() + b"\n%%EOF\n")
    return path


def _upload(page, requirement, path: Path) -> None:
    """Upload one file for a material and wait for the page to list it."""
    from playwright.sync_api import expect

    row = page.locator(f'[data-testid="material-row"][data-requirement="{requirement.pk}"]')
    row.locator('input[type="file"]').set_input_files(str(path))
    row.get_by_test_id("upload-form").locator("button[type=submit]").click()
    expect(row.get_by_role("link", name=path.name)).to_be_visible()


def _next_step(application: Application, user) -> str:
    """The next-step sentence as the page shows it (in the site's default language)."""
    application.refresh_from_db()
    with translation.override(settings.LANGUAGE_CODE):
        return str(application_next_step(application, user))


def _city_status(application: Application, *, version: int, status: str, **extra: str):
    """A case.status message from the city, signed with the city's key, received by the district."""
    payload = {
        "application_number": application.number,
        "case_number": CASE_NUMBER,
        "version": version,
        "status": status,
        "reason": "",
        "certificate_number": "",
        "certificate_date": "",
        "at": timezone.now().isoformat(),
        **extra,
    }
    body = build_body(message_id=new_message_id(), message_type="case.status", sender="city", payload=payload)
    return inbound_receive(body=body, signature=sign(body, keys.citysim_private_key()))


def test_application_corrected_accepted_granted_and_collected(
    page, live_server, personas, project_a, permit_item, datalink_keys, tmp_path
):
    from playwright.sync_api import expect

    firm, clerk = personas["firm_a"], personas["window_clerk"]
    required = list(permit_item.materials.filter(required=True).order_by("order", "pk"))
    assert required
    status = page.get_by_test_id("status").first  # the header's badge (the city panel repeats it)

    # The firm starts the application from its project's approvals tab.
    _sign_in(page, live_server, firm.username)
    page.goto(reverse("investments:detail", args=[project_a.pk]))
    page.get_by_test_id("tab-approvals").click()
    page.locator("#tab-approvals").get_by_test_id("new-application").click()
    page.wait_for_url(re.compile(r"/approvals/new/\?project=\d+$"))
    expect(page.locator("#id_project")).to_have_value(str(project_a.pk))
    page.select_option("#id_item", permit_item.code)
    page.fill("#id_contact_name", "王工")
    page.fill("#id_contact_phone", "13800001111")
    page.fill("#id_description", "1号厂房主体施工,建筑面积12000平方米")
    _shot(page, "01-firm-new-application")
    page.get_by_test_id("create").click()
    page.wait_for_url(re.compile(r"/approvals/\d+/$"))
    application = Application.objects.get()
    assert (application.project, application.item, application.contact_name) == (project_a, permit_item, "王工")
    expect(status).to_have_attribute("data-status", S.DRAFT)
    expect(page.get_by_test_id("missing")).to_have_count(len(required))
    before = _next_step(application, firm)
    expect(page.get_by_test_id("next-step")).to_contain_text(before)
    expect(page.get_by_test_id("missing-list")).to_be_visible()

    # Every required material as a PDF; the next step turns from "upload" to "submit".
    for requirement in required:
        _upload(page, requirement, _pdf(tmp_path, f"material-{requirement.pk}.pdf"))
    expect(page.get_by_test_id("missing")).to_have_count(0)
    after = _next_step(application, firm)
    assert after != before
    expect(page.get_by_test_id("next-step")).to_contain_text(after)
    expect(page.get_by_test_id("missing-list")).to_have_count(0)
    _shot(page, "02-firm-materials-uploaded")
    page.get_by_test_id("submit-form").get_by_test_id("submit").click()
    expect(status).to_have_attribute("data-status", S.SUBMITTED)
    application.refresh_from_db()
    assert application.received_on is not None

    # The window finds it in its queue and asks for one correction.
    _sign_in(page, live_server, clerk.username)
    page.goto(reverse("approvals:index"))
    row = page.locator(f'[data-testid="queue-row"][data-number="{application.number}"]')
    expect(row).to_be_visible()
    _shot(page, "03-clerk-queue")
    row.get_by_role("link", name=application.number).click()
    page.wait_for_url(f"**{reverse('approvals:detail', args=[application.pk])}")
    faulty = required[0]
    problem = "规划许可证复印件不清晰,请重新扫描上传"
    correction = page.get_by_test_id("correction-form")
    correction.locator(f"#id_correction-flag_{faulty.pk}").check()
    correction.locator(f"#id_correction-problem_{faulty.pk}").fill(problem)
    _shot(page, "04-clerk-correction")
    correction.locator("button[type=submit]").click()
    expect(status).to_have_attribute("data-status", S.CORRECTION)
    expect(page.locator(f'[data-testid="event"][data-kind="{EventKind.CORRECTION_REQUESTED}"]')).to_contain_text(
        problem
    )
    _sign_out(page, live_server)

    # The firm sees what to correct, uploads the corrected file and resubmits.
    _sign_in(page, live_server, firm.username)
    page.goto(reverse("approvals:index"))
    page.wait_for_url(f"**{reverse('approvals:list')}")
    page.get_by_role("link", name=application.number).click()
    page.wait_for_url(f"**{reverse('approvals:detail', args=[application.pk])}")
    expect(status).to_have_attribute("data-status", S.CORRECTION)
    expect(page.get_by_test_id("correction-items")).to_contain_text(faulty.name)
    expect(page.get_by_test_id("correction-items")).to_contain_text(problem)
    expect(page.get_by_test_id("next-step")).to_contain_text(_next_step(application, firm))
    faulty_row = page.locator(f'[data-testid="material-row"][data-requirement="{faulty.pk}"]')
    expect(faulty_row.get_by_test_id("problem")).to_contain_text(problem)
    _shot(page, "05-firm-correction")
    _upload(page, faulty, _pdf(tmp_path, "corrected-scan.pdf"))
    expect(faulty_row.get_by_test_id("problem")).to_contain_text("✓")
    page.get_by_test_id("submit-form").get_by_test_id("submit").click()
    expect(status).to_have_attribute("data-status", S.SUBMITTED)

    # The window accepts (受理); the application is forwarded to the city with a message id.
    _sign_in(page, live_server, clerk.username)
    page.goto(reverse("approvals:detail", args=[application.pk]))
    expect(page.get_by_test_id("corrections-used")).to_be_visible()
    page.get_by_test_id("accept-form").locator("button[type=submit]").click()
    expect(status).to_have_attribute("data-status", S.ACCEPTED)
    message = OutboxMessage.objects.get(message_type="application.submit")
    forwarded = page.locator(f'[data-testid="event"][data-kind="{EventKind.FORWARDED}"]')
    expect(forwarded).to_contain_text(str(message.message_id))
    expect(forwarded.get_by_test_id("message-link")).to_have_text(str(message.message_id))
    _shot(page, "06-clerk-accepted")

    # The firm watches its application while the city acknowledges it and grants the permit.
    _sign_in(page, live_server, firm.username)
    page.goto(reverse("approvals:detail", args=[application.pk]))
    expect(status).to_have_attribute("data-status", S.ACCEPTED)
    outcome = DeliveryOutcome(
        ok=True,
        retryable=False,
        status=200,
        result={"case_number": CASE_NUMBER, "received_at": timezone.now().isoformat()},
    )
    assert delivery_record(message=message, outcome=outcome) == OutboxStatus.DELIVERED
    page.reload()
    expect(status).to_have_attribute("data-status", S.CITY_RECEIVED)
    expect(page.get_by_test_id("case-number")).to_have_text(CASE_NUMBER)
    reply = _city_status(application, version=2, status="in_review")
    assert reply.status == 200, reply.body
    today = timezone.localdate().isoformat()
    reply = _city_status(
        application, version=3, status="granted", certificate_number=CERTIFICATE, certificate_date=today
    )
    assert reply.status == 200, reply.body
    page.reload()
    expect(status).to_have_attribute("data-status", S.GRANTED)
    expect(status).to_contain_text("准予许可")
    with translation.override(settings.LANGUAGE_CODE):
        granted = str(Decision.GRANTED.label)
    expect(page.get_by_test_id("decision")).to_contain_text(granted)
    expect(page.get_by_test_id("certificate")).to_contain_text(CERTIFICATE)
    expect(page.get_by_test_id("next-step")).to_contain_text(_next_step(application, firm))
    _shot(page, "07-firm-granted")

    # The window hands out the permit (出件).
    _sign_in(page, live_server, clerk.username)
    page.goto(reverse("approvals:detail", args=[application.pk]))
    collect = page.get_by_test_id("collect-form")
    collect.locator("#id_collect-collected_by").fill("李四")
    collect.locator("button[type=submit]").click()
    expect(status).to_have_attribute("data-status", S.COLLECTED)
    expect(page.get_by_test_id("city-panel")).to_contain_text("李四")
    expect(page.locator(f'[data-testid="event"][data-kind="{EventKind.COLLECTED}"]')).to_be_visible()
    _shot(page, "08-clerk-collected")

    assert page.failed_requests == []
    assert page.script_errors == []
    application.refresh_from_db()
    assert (application.status, application.decision, application.certificate_number, application.collected_by) == (
        S.COLLECTED,
        Decision.GRANTED,
        CERTIFICATE,
        "李四",
    )
    report = log_verify()
    assert report.ok, report.problems
