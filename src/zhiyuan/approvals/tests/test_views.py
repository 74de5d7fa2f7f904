"""Approval-desk pages: the firm's way from a new application to submission, the window's queue and
actions, the scoping (another firm, a bank: 404), bad uploads changing nothing, the catalogue and
the list's filters."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from zhiyuan.approvals import services as sv
from zhiyuan.approvals.models import Application, ApplicationEvent, ApplicationMaterial, ApprovalItem, EventKind
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.approvals.tests.conftest import pdf
from zhiyuan.datalink.adapters import DeliveryOutcome
from zhiyuan.datalink.models import OutboxMessage
from zhiyuan.datalink.services import delivery_record
from zhiyuan.investments.models import Project, Stage

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import

TODAY = timezone.localdate()


def required(item: ApprovalItem):
    return list(item.materials.filter(required=True))


def start(client, project: Project, item: ApprovalItem) -> Application:
    """Start an application through the form; returns it."""
    response = client.post(
        reverse("approvals:create"),
        {"item": item.code, "project": project.pk, "contact_name": "张三", "contact_phone": "13812341234",
         "description": "综合楼及厂房施工"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.get(project=project, item=item)
    assert response["Location"] == reverse("approvals:detail", args=[application.pk])
    return application


def upload(client, application: Application, requirement, file):
    return client.post(
        reverse("approvals:upload", args=[application.pk, requirement.pk]), {f"m{requirement.pk}-file": file}
    )


def submitted(personas, project, item) -> Application:
    """An application of the project's firm, with every required material, submitted (by the services)."""
    firm = personas["firm_a"] if project.enterprise.name.startswith("株洲硬质") else personas["firm_b"]
    application = sv.application_create(
        actor=firm, item=item, project=project, contact_name="张三", contact_phone="13812341234"
    )
    for requirement in required(item):
        sv.material_add(actor=firm, application=application, requirement=requirement,
                        uploaded_file=pdf(f"{requirement.pk}.pdf"))
    return sv.application_submit(actor=firm, application=application)


# ---------------------------------------------------------------- the firm's way


def test_firm_creates_uploads_and_submits_through_the_pages(login, personas, project_a, permit_item):
    client = login("firm_a")
    # The form comes pre-filled from the link on the project page and the enterprise's contact.
    page = client.get(reverse("approvals:create") + f"?project={project_a.pk}&item={permit_item.code}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="张三"' in html and 'value="13812341234"' in html
    assert re.search(rf'<option value="{permit_item.code}" selected>', html)
    assert re.search(rf'<option value="{project_a.pk}" selected>', html)

    application = start(client, project_a, permit_item)
    assert application.status == S.DRAFT and application.created_by == personas["firm_a"]
    page = client.get(reverse("approvals:detail", args=[application.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="next-step"' in html and 'data-testid="missing"' in html
    assert html.count('data-testid="upload-form"') == permit_item.materials.count()

    content = b"%PDF-1.4 application form"
    for requirement in required(permit_item):
        response = upload(client, application, requirement, pdf(f"材料{requirement.pk}.pdf", content))
        assert response.status_code == 302
    material = application.materials.first()
    html = client.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert material.original_name in html and material.sha256[:12] in html
    assert 'data-testid="missing"' not in html and 'data-testid="remove"' in html

    download = client.get(reverse("approvals:material", args=[application.pk, material.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert "attachment" in download["Content-Disposition"]

    response = client.post(reverse("approvals:submit", args=[application.pk]), follow=True)
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == S.SUBMITTED and application.received_on == TODAY
    html = response.content.decode()
    assert 'data-testid="upload-form"' not in html and 'data-testid="submit-form"' not in html
    assert 'data-testid="accept-form"' not in html  # the firm does not accept its own application
    assert 'data-testid="withdraw-form"' in html
    kinds = [event.kind for event in application.events.all()]
    assert kinds[0] == EventKind.CREATED and kinds[-1] == EventKind.SUBMITTED

    # The firm's list and its entry page.
    assert client.get(reverse("approvals:index"))["Location"] == reverse("approvals:list")
    html = client.get(reverse("approvals:list")).content.decode()
    assert application.number in html and 'data-testid="new-application"' in html


def test_submit_with_missing_materials_shows_them_and_changes_nothing(login, project_a, permit_item):
    client = login("firm_a")
    application = start(client, project_a, permit_item)
    response = client.post(reverse("approvals:submit", args=[application.pk]), follow=True)
    application.refresh_from_db()
    assert application.status == S.DRAFT
    html = response.content.decode()
    assert 'alert-danger' in html and required(permit_item)[0].name in html


def test_create_shows_domain_errors_on_the_fields(login, personas, project_a, permit_item):
    client = login("firm_a")
    Project.objects.filter(pk=project_a.pk).update(code="")
    response = client.post(
        reverse("approvals:create"),
        {"item": permit_item.code, "project": project_a.pk, "contact_name": "张三", "contact_phone": "138"},
    )
    assert response.status_code == 400
    assert 'data-field="project"' in response.content.decode()
    assert not Application.objects.exists()

    Project.objects.filter(pk=project_a.pk).update(code="2019-430202-34-03-012345")
    start(client, project_a, permit_item)
    again = client.post(
        reverse("approvals:create"),
        {"item": permit_item.code, "project": project_a.pk, "contact_name": "张三", "contact_phone": "138"},
    )
    assert again.status_code == 400 and Application.objects.count() == 1
    assert 'data-field="item"' in again.content.decode() or 'data-testid="form-errors"' in again.content.decode()


def test_a_firm_cannot_apply_for_another_firms_project(login, project_a, project_b, permit_item):
    client = login("firm_b")
    assert client.get(reverse("approvals:create") + f"?project={project_a.pk}").status_code == 404
    response = client.post(
        reverse("approvals:create"),
        {"item": permit_item.code, "project": project_a.pk, "contact_name": "李四", "contact_phone": "139"},
    )
    assert response.status_code == 400 and not Application.objects.exists()
    # Its own project only in the choices.
    html = client.get(reverse("approvals:create")).content.decode()
    assert project_b.name in html and project_a.name not in html


def test_a_project_without_enterprise_is_not_offered(login, personas, project_a):
    lead = Project.objects.create(name="某新材料线索项目", stage=Stage.LEAD, total_investment=1000)
    html = login("window_clerk").get(reverse("approvals:create")).content.decode()
    assert project_a.name in html and lead.name not in html


# ---------------------------------------------------------------- uploads


def test_wrong_file_type_shows_the_error_and_changes_nothing(login, project_a, permit_item):
    client = login("firm_a")
    application = start(client, project_a, permit_item)
    events = ApplicationEvent.objects.count()
    requirement = required(permit_item)[0]
    response = upload(client, application, requirement, pdf("申请表.exe", b"MZ"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="upload-error"' in html and ".pdf" in html
    assert not ApplicationMaterial.objects.exists()
    assert ApplicationEvent.objects.count() == events


def test_oversized_file_is_refused(login, settings, project_a, permit_item):
    settings.ZHIYUAN_APPROVALS_MATERIAL_MAX_BYTES = 10
    client = login("firm_a")
    application = start(client, project_a, permit_item)
    response = upload(client, application, required(permit_item)[0], pdf("big.pdf", b"%PDF" + b"x" * 100))
    assert response.status_code == 400 and 'data-testid="upload-error"' in response.content.decode()
    assert not ApplicationMaterial.objects.exists()


def test_a_file_can_be_removed_while_a_draft(login, project_a, permit_item):
    client = login("firm_a")
    application = start(client, project_a, permit_item)
    requirement = required(permit_item)[0]
    upload(client, application, requirement, pdf())
    material = application.materials.get()
    response = client.post(reverse("approvals:material_remove", args=[application.pk, material.pk]))
    assert response.status_code == 302
    assert not application.materials.exists()
    assert application.events.filter(kind=EventKind.MATERIAL_REMOVED).exists()


# ---------------------------------------------------------------- the window


def test_clerk_queue_shows_the_application_and_overdue_in_red(login, personas, project_a, permit_item):
    application = submitted(personas, project_a, permit_item)
    client = login("window_clerk")
    page = client.get(reverse("approvals:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert application.number in html and 'data-testid="window-counts"' in html
    assert 'data-testid="count-to-check">1<' in html
    row = re.search(rf'<tr class="([^"]*)" data-testid="queue-row" data-number="{application.number}"', html)
    assert row and row.group(1) in ("", "table-warning")

    Application.objects.filter(pk=application.pk).update(accept_due=TODAY - dt.timedelta(days=7))
    html = client.get(reverse("approvals:index")).content.decode()
    row = re.search(rf'<tr class="([^"]*)" data-testid="queue-row" data-number="{application.number}"', html)
    assert row.group(1) == "table-danger"
    assert 'data-testid="overdue"' in html and 'data-testid="count-overdue-window">1<' in html

    # A deadline the calendar cannot count yet.
    Application.objects.filter(pk=application.pk).update(accept_due=None)
    html = client.get(reverse("approvals:index")).content.decode()
    assert 'data-testid="clock-unknown"' in html


def test_other_staff_start_at_the_list(login, personas, project_a, permit_item):
    application = submitted(personas, project_a, permit_item)
    client = login("investment")
    response = client.get(reverse("approvals:index"))
    assert response.status_code == 302 and response["Location"] == reverse("approvals:list")
    assert application.number in client.get(reverse("approvals:list")).content.decode()
    html = client.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert 'data-testid="accept-form"' not in html and 'data-testid="submit-form"' not in html
    assert client.post(reverse("approvals:accept", args=[application.pk])).status_code == 403
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_clerk_requests_corrections_and_the_firm_sees_them(login, personas, project_a, permit_item):
    application = submitted(personas, project_a, permit_item)
    clerk = login("window_clerk")
    page = clerk.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert 'data-testid="correction-form"' in page and 'data-testid="accept-form"' in page
    first, second = required(permit_item)[:2]

    # A ticked material needs its problem: nothing is changed.
    response = clerk.post(
        reverse("approvals:correction", args=[application.pk]), {f"correction-flag_{first.pk}": "on"}
    )
    assert response.status_code == 400
    assert f'data-field="problem_{first.pk}"' in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED

    response = clerk.post(
        reverse("approvals:correction", args=[application.pk]),
        {
            f"correction-flag_{first.pk}": "on",
            f"correction-problem_{first.pk}": "未盖公章",
            f"correction-problem_{second.pk}": "复印件不清晰",
            "correction-general": "联系人电话有误",
            "correction-note": "请于五个工作日内补正",
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.CORRECTION and application.corrections_requested
    problems = [entry["problem"] for entry in application.correction_items]
    assert problems == ["未盖公章", "复印件不清晰", "联系人电话有误"]

    firm = login("firm_a")
    html = firm.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert 'data-testid="correction-items"' in html
    for text in ("未盖公章", "复印件不清晰", "联系人电话有误", "请于五个工作日内补正"):
        assert text in html
    assert 'data-testid="submit-form"' in html

    # Resubmitting before correcting is refused; after uploading both it goes back to the window.
    firm.post(reverse("approvals:submit", args=[application.pk]))
    application.refresh_from_db()
    assert application.status == S.CORRECTION
    for requirement in (first, second):
        assert upload(firm, application, requirement, pdf(f"new-{requirement.pk}.pdf")).status_code == 302
    firm.post(reverse("approvals:submit", args=[application.pk]))
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    assert application.events.filter(kind=EventKind.RESUBMITTED).exists()

    # Corrections only once.
    html = clerk.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert 'data-testid="correction-form"' not in html and 'data-testid="corrections-used"' in html


def test_clerk_accepts_and_the_message_to_the_city_is_written(login, personas, project_a, permit_item, datalink_keys):
    application = submitted(personas, project_a, permit_item)
    clerk = login("window_clerk")
    response = clerk.post(reverse("approvals:accept", args=[application.pk]), {"accept-note": "材料齐全"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.ACCEPTED and application.accepted_by == personas["window_clerk"]
    message = OutboxMessage.objects.get()
    assert message.message_id == application.forward_message_id
    assert message.subject == f"approvals.application:{application.pk}"

    # Staff see a link to the outgoing message; the firm sees its id only.
    link = reverse("datalink:message", args=[message.pk])
    html = clerk.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert link in html and 'data-testid="city-panel"' in html
    html = login("firm_a").get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert link not in html and str(message.message_id) in html

    # Accepting twice is refused with a message, nothing changes.
    again = clerk.post(reverse("approvals:accept", args=[application.pk]), {"accept-note": ""})
    assert again.status_code == 403
    assert OutboxMessage.objects.count() == 1

    # The city's acknowledgement shows in the city panel and on the timeline.
    delivery_record(
        message=message,
        outcome=DeliveryOutcome(ok=True, retryable=False, status=200,
                                result={"case_number": "ZZSP-2026-000001", "received_at": timezone.now().isoformat()}),
    )
    html = clerk.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert "ZZSP-2026-000001" in html and 'data-status="city_received"' in html


def test_reject_needs_a_reason(login, personas, project_a, permit_item):
    application = submitted(personas, project_a, permit_item)
    clerk = login("window_clerk")
    response = clerk.post(reverse("approvals:reject", args=[application.pk]), {"reject-reason": ""})
    assert response.status_code == 400 and 'data-field="reason"' in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    clerk.post(reverse("approvals:reject", args=[application.pk]), {"reject-reason": "不属于本窗口受理范围"})
    application.refresh_from_db()
    assert application.status == S.REJECTED
    html = login("firm_a").get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert 'data-testid="rejection"' in html and "不属于本窗口受理范围" in html


def test_firm_withdraws(login, project_a, permit_item):
    client = login("firm_a")
    application = start(client, project_a, permit_item)
    response = client.post(reverse("approvals:withdraw", args=[application.pk]), {"withdraw-reason": "改期申报"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.WITHDRAWN


def test_clerk_records_the_collection(login, personas, project_a, permit_item):
    application = submitted(personas, project_a, permit_item)
    Application.objects.filter(pk=application.pk).update(
        status=S.GRANTED, decision="granted", certificate_number="430202202611290101", city_case_number="ZZSP-1"
    )
    clerk = login("window_clerk")
    html = clerk.get(reverse("approvals:detail", args=[application.pk])).content.decode()
    assert 'data-testid="collect-form"' in html and "430202202611290101" in html
    assert 'value="张三"' in html  # pre-filled with the contact person
    response = clerk.post(reverse("approvals:collect", args=[application.pk]), {"collect-collected_by": "张三"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.COLLECTED and application.collected_by == "张三"


# ---------------------------------------------------------------- scoping


def test_another_firm_gets_404_on_the_application_and_its_files(login, personas, project_a, permit_item):
    application = submitted(personas, project_a, permit_item)
    material = application.materials.first()
    client = login("firm_b")
    assert client.get(reverse("approvals:detail", args=[application.pk])).status_code == 404
    assert client.get(reverse("approvals:material", args=[application.pk, material.pk])).status_code == 404
    withdraw = client.post(reverse("approvals:withdraw", args=[application.pk]), {"withdraw-reason": "x"})
    assert withdraw.status_code == 404
    assert client.post(
        reverse("approvals:upload", args=[application.pk, material.requirement_id]), {"file": pdf()}
    ).status_code == 404
    assert application.number not in client.get(reverse("approvals:list")).content.decode()
    assert client.get(reverse("approvals:detail", args=[999999])).status_code == 404
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


@pytest.mark.parametrize("key", ["bank", "city"])
def test_banks_and_the_city_get_404_everywhere(login, personas, project_a, permit_item, key):
    application = submitted(personas, project_a, permit_item)
    material = application.materials.first()
    client = login(key)
    for url in (
        reverse("approvals:index"),
        reverse("approvals:list"),
        reverse("approvals:items"),
        reverse("approvals:create"),
        reverse("approvals:detail", args=[application.pk]),
        reverse("approvals:material", args=[application.pk, material.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("approvals:accept", args=[application.pk])).status_code == 404
    html = client.get(reverse("core:home")).content.decode()
    assert reverse("approvals:index") not in html


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("approvals:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_navigation(login):
    assert reverse("approvals:index") in login("window_clerk").get(reverse("core:home")).content.decode()
    assert reverse("approvals:index") in login("investment").get(reverse("core:home")).content.decode()
    assert reverse("approvals:index") in login("firm_a").get(reverse("core:home")).content.decode()


# ---------------------------------------------------------------- catalogue, list, languages


def test_items_page_lists_the_nine_seeded_items(login):
    items = list(ApprovalItem.objects.filter(is_active=True))
    assert len(items) == 9
    for key in ("firm_a", "window_clerk", "leader"):
        response = login(key).get(reverse("approvals:items"))
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count('data-testid="item"') == 9
        for item in items:
            assert item.name in html and item.department in html
    assert "建筑工程施工许可申请表" in html


def test_list_filters_by_status_and_refreshes_by_htmx(login, personas, project_a, project_b, permit_item):
    done = submitted(personas, project_a, permit_item)
    draft = sv.application_create(actor=personas["firm_b"], item=permit_item, project=project_b,
                                  contact_name="李四", contact_phone="139")
    client = login("window_clerk")
    html = client.get(reverse("approvals:list")).content.decode()
    assert done.number in html and draft.number in html
    html = client.get(reverse("approvals:list") + "?status=submitted").content.decode()
    assert done.number in html and draft.number not in html
    html = client.get(reverse("approvals:list") + "?state=to_check").content.decode()
    assert done.number in html and draft.number not in html
    html = client.get(reverse("approvals:list") + f"?q={project_b.enterprise.uscc}").content.decode()
    assert draft.number in html and done.number not in html
    html = client.get(reverse("approvals:list") + f"?received_after={TODAY:%Y-%m-%d}").content.decode()
    assert done.number in html and draft.number not in html
    fragment = client.get(reverse("approvals:list") + "?status=draft", HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert draft.number in body and done.number not in body
    assert client.get(reverse("approvals:list") + "?sort=-number").status_code == 200


def test_pages_render_in_both_languages(login, personas, project_a, permit_item):
    application = submitted(personas, project_a, permit_item)
    urls = [
        reverse("approvals:index"),
        reverse("approvals:list"),
        reverse("approvals:items"),
        reverse("approvals:create"),
        reverse("approvals:detail", args=[application.pk]),
    ]
    for language in (None, "en"):
        client = login("window_clerk")
        if language:
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 200, url
            assert f'lang="{language or "zh-hans"}"' in response.content.decode()
