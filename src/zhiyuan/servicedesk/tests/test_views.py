"""Service-desk pages: who sees which page, every form calling its service with the change showing,
bad input showing the field error with nothing written."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role
from zhiyuan.accounts.services import user_create
from zhiyuan.conftest import PASSWORD
from zhiyuan.enterprises.models import Enterprise
from zhiyuan.servicedesk import services
from zhiyuan.servicedesk.models import Category, Channel, RequestAttachment, RequestStatus, ServiceRequest, Visit
from zhiyuan.servicedesk.views import EVENT_LABELS

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import

TODAY = timezone.localdate()
STAFF_PAGES = ["servicedesk:queue", "servicedesk:list", "servicedesk:dashboard", "servicedesk:visits"]


@pytest.fixture
def desk(personas, firm_a, firm_b):
    """firm_a is looked after by the `specialist` persona, firm_b by a second specialist."""
    other = user_create(
        actor=None,
        username="zhuanyuan2",
        password=PASSWORD,
        role=Role.SPECIALIST,
        organisation=personas["specialist"].organisation,
        last_name="谭",
        first_name="立新",
        validate=False,
    )
    Enterprise.objects.filter(pk=firm_a.pk).update(specialist=personas["specialist"])
    Enterprise.objects.filter(pk=firm_b.pk).update(specialist=other)
    firm_a.refresh_from_db()
    firm_b.refresh_from_db()
    return {**personas, "specialist_2": other, "a": firm_a, "b": firm_b}


def submit(desk, firm="a", **kwargs):
    user = desk["firm_a" if firm == "a" else "firm_b"]
    data = {"category": Category.POLICY, "title": "高企认定政策咨询", "description": "请问今年高企认定何时申报?"}
    data.update(kwargs)
    return services.request_submit(actor=user, enterprise=desk[firm], **data)


def labour_data(**extra):
    data = {
        "category": Category.LABOUR,
        "title": "招聘数控操作工",
        "description": "新生产线投产,急需一线操作工",
        "labour_positions": "数控车床操作工",
        "labour_headcount": "30",
        "labour_skills": "数控车床, 识图",
        "labour_needed_by": (TODAY + dt.timedelta(days=30)).isoformat(),
    }
    data.update(extra)
    return data


def field_errors(response, name: str) -> list[str]:
    form = next(
        form
        for form in [response.context.get("form"), *(response.context.get("forms") or {}).values()]
        if form is not None and form.errors
    )
    return form.errors.get(name, [])


# ---------------------------------------------------------------- who sees what


@pytest.mark.parametrize("name", STAFF_PAGES + ["servicedesk:create", "servicedesk:visit_create"])
def test_staff_pages_open_for_the_specialist(desk, login, name):
    assert login("specialist").get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", ["servicedesk:list", "servicedesk:dashboard", "servicedesk:visits"])
def test_leader_reads_the_desk(desk, login, name):
    assert login("leader").get(reverse(name)).status_code == 200


def test_leader_neither_registers_requests_nor_logs_visits(desk, login):
    client = login("leader")
    assert client.get(reverse("servicedesk:create")).status_code == 403
    assert client.get(reverse("servicedesk:visit_create")).status_code == 403


@pytest.mark.parametrize("name", STAFF_PAGES + ["servicedesk:visit_create", "servicedesk:financing"])
def test_firm_user_is_refused_the_staff_pages(desk, login, name):
    assert login("firm_a").get(reverse(name)).status_code == 403


@pytest.mark.parametrize("key", ["bank", "city"])
@pytest.mark.parametrize("name", STAFF_PAGES + ["servicedesk:mine", "servicedesk:create", "servicedesk:visit_create"])
def test_bank_and_city_are_refused(desk, login, key, name):
    assert login(key).get(reverse(name)).status_code == 403


def test_city_is_refused_a_request_and_the_financing_needs(desk, login):
    request = submit(desk)
    client = login("city")
    assert client.get(reverse("servicedesk:detail", args=[request.pk])).status_code == 403
    assert client.get(reverse("servicedesk:financing")).status_code == 403


def test_index_sends_each_role_to_its_page(desk, login):
    expected = {
        "firm_a": "servicedesk:mine",
        "specialist": "servicedesk:queue",
        "leader": "servicedesk:dashboard",
        "statistics": "servicedesk:list",
        "bank": "credit:needs",
    }
    for key, name in expected.items():
        response = login(key).get(reverse("servicedesk:index"))
        assert response.status_code == 302 and response.url == reverse(name), key
    assert login("city").get(reverse("servicedesk:index")).status_code == 403


def test_navigation_shows_the_desk_to_staff_and_my_requests_to_firms(desk, login):
    assert reverse("servicedesk:index") in login("specialist").get("/").content.decode()
    assert reverse("servicedesk:mine") in login("firm_a").get("/").content.decode()
    assert reverse("credit:needs") in login("bank").get("/").content.decode()


def test_firm_sees_only_its_own_requests(desk, login):
    mine, theirs = submit(desk, "a", title="甲企业的诉求"), submit(desk, "b", title="乙企业的诉求")
    client = login("firm_a")
    page = client.get(reverse("servicedesk:mine")).content.decode()
    assert "甲企业的诉求" in page and "乙企业的诉求" not in page
    assert client.get(reverse("servicedesk:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("servicedesk:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("servicedesk:detail", args=[999999])).status_code == 404


def test_firm_does_not_see_internal_events(desk, login):
    request = submit(desk, on=TODAY - dt.timedelta(days=30))
    services.escalations_run(today=TODAY)
    url = reverse("servicedesk:detail", args=[request.pk])
    internal = str(EVENT_LABELS["escalate"])
    assert internal in login("specialist").get(url).content.decode()
    firm_page = login("firm_a").get(url).content.decode()
    assert internal not in firm_page and 'data-testid="escalated"' not in firm_page


def test_specialist_reads_another_specialists_firm_but_cannot_act(desk, login):
    request = submit(desk, "b")
    client = login("specialist")
    response = client.get(reverse("servicedesk:detail", args=[request.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="sign-for-form"' not in page and 'data-testid="read-only"' in page
    assert client.post(reverse("servicedesk:sign_for", args=[request.pk])).status_code == 403
    assert client.post(reverse("servicedesk:resolve", args=[request.pk]), {"resolution": "x"}).status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED
    # ... and it is not in their queue, but in the other specialist's.
    assert request.title not in client.get(reverse("servicedesk:queue")).content.decode()
    other = Client()
    other.force_login(desk["specialist_2"])
    assert request.title in other.get(reverse("servicedesk:queue")).content.decode()


def test_bank_sees_only_published_financing_needs(desk, login):
    financing = {"amount": "800", "term_months": 12, "purpose": "购买原材料", "collateral": "厂房抵押"}
    published = submit(
        desk, category=Category.FINANCING, title="流动资金贷款", financing={**financing, "share_with_banks": True}
    )
    submit(desk, "b", category=Category.FINANCING, title="不公开的融资", financing={**financing, "amount": "555"})
    labour = submit(desk, category=Category.LABOUR, labour={"positions": "焊工", "headcount": 5})
    client = login("bank")
    page = client.get(reverse("servicedesk:financing")).content.decode()
    assert desk["a"].name in page and "800.00" in page
    assert desk["b"].name not in page and "555" not in page
    # The bank sees the need, not the request: no request page, no list.
    assert client.get(reverse("servicedesk:detail", args=[published.pk])).status_code == 403
    assert client.get(reverse("servicedesk:detail", args=[labour.pk])).status_code == 403
    assert client.get(reverse("servicedesk:list")).status_code == 403


# ---------------------------------------------------------------- the firm's forms


def test_firm_submits_a_labour_request(desk, login):
    client = login("firm_a")
    form_page = client.get(reverse("servicedesk:create")).content.decode()
    assert 'data-testid="labour-block"' in form_page and 'name="enterprise"' not in form_page
    response = client.post(reverse("servicedesk:create"), labour_data())
    request = ServiceRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("servicedesk:detail", args=[request.pk])
    assert request.enterprise == desk["a"] and request.channel == Channel.ONLINE
    assert request.assignee == desk["specialist"]
    assert (request.labour_positions, request.labour_headcount, request.labour_skills) == (
        "数控车床操作工",
        30,
        "数控车床, 识图",
    )
    page = client.get(response.url).content.decode()
    assert "招聘数控操作工" in page and 'data-testid="labour-need"' in page and "数控车床操作工" in page


def test_firm_submits_a_financing_request_published_to_banks(desk, login):
    response = login("firm_a").post(
        reverse("servicedesk:create"),
        {
            "category": Category.FINANCING,
            "title": "技改项目贷款",
            "description": "新建生产线需中长期贷款",
            "financing_amount": "1500",
            "financing_term_months": "36",
            "financing_purpose": "设备购置",
            "financing_collateral": "设备抵押",
            "financing_share_with_banks": "on",
        },
    )
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.financing_amount == Decimal("1500") and request.financing_share_with_banks
    assert "技改项目贷款" not in login("bank").get(reverse("servicedesk:financing")).content.decode()
    assert desk["a"].name in login("bank").get(reverse("servicedesk:financing")).content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"description": ""}, "description"),
        ({"category": "tax"}, "category"),
        ({"labour_headcount": ""}, "labour_headcount"),
        ({"labour_positions": ""}, "labour_positions"),
        ({"labour_headcount": "0"}, "labour_headcount"),
    ],
)
def test_bad_request_shows_the_field_error_and_writes_nothing(desk, login, data, field):
    response = login("firm_a").post(reverse("servicedesk:create"), labour_data(**data))
    assert response.status_code == 400
    assert field_errors(response, field)
    assert f'data-field="{field}"' in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_financing_without_amount_is_refused(desk, login):
    response = login("firm_a").post(
        reverse("servicedesk:create"), {"category": Category.FINANCING, "title": "贷款", "description": "需要贷款"}
    )
    assert response.status_code == 400 and field_errors(response, "financing_amount")
    assert not ServiceRequest.objects.exists()


@override_settings(ZHIYUAN_SERVICEDESK_ATTACHMENT_MAX_BYTES=1024)
def test_attachment_over_the_limit_is_refused(desk, login):
    big = SimpleUploadedFile("营业执照.pdf", b"x" * 2048, content_type="application/pdf")
    response = login("firm_a").post(reverse("servicedesk:create"), {**labour_data(), "attachment": big})
    assert response.status_code == 400 and field_errors(response, "attachment")
    assert not ServiceRequest.objects.exists() and not RequestAttachment.objects.exists()


def test_firm_attaches_a_file_and_downloads_it(desk, login):
    request = submit(desk)
    client = login("firm_a")
    response = client.post(
        reverse("servicedesk:attachment_add", args=[request.pk]),
        {"attachment": SimpleUploadedFile("说明.pdf", b"%PDF-1.4 test", content_type="application/pdf")},
    )
    assert response.status_code == 302
    attachment = request.attachments.get()
    download = client.get(reverse("servicedesk:attachment", args=[request.pk, attachment.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 test"
    assert login("firm_b").get(reverse("servicedesk:attachment", args=[request.pk, attachment.pk])).status_code == 404


def test_firm_adds_information_when_asked(desk, login):
    request = services.request_sign_for(actor=desk["specialist"], request=submit(desk))
    services.request_ask_firm(actor=desk["specialist"], request=request, note="请补充营业执照")
    client = login("firm_a")
    page = client.get(reverse("servicedesk:detail", args=[request.pk])).content.decode()
    assert 'data-testid="add-information-form"' in page
    bad = client.post(reverse("servicedesk:add_information", args=[request.pk]), {"note": ""})
    assert bad.status_code == 400 and field_errors(bad, "note")
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.WAITING_FOR_FIRM
    response = client.post(reverse("servicedesk:add_information", args=[request.pk]), {"note": "已上传营业执照"})
    assert response.status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.IN_PROGRESS
    assert "已上传营业执照" in client.get(response.url).content.decode()


def resolved(desk):
    request = services.request_sign_for(actor=desk["specialist"], request=submit(desk))
    return services.request_resolve(actor=desk["specialist"], request=request, resolution="已协调人社局办理")


def test_firm_rates_a_resolved_request(desk, login):
    request = resolved(desk)
    client = login("firm_a")
    page = client.get(reverse("servicedesk:detail", args=[request.pk])).content.decode()
    assert 'data-testid="rate-form"' in page and 'data-testid="reopen-form"' in page
    bad = client.post(reverse("servicedesk:rate", args=[request.pk]), {"rating": "6"})
    assert bad.status_code == 400 and field_errors(bad, "rating")
    assert ServiceRequest.objects.get(pk=request.pk).rating is None
    response = client.post(reverse("servicedesk:rate", args=[request.pk]), {"rating": "5", "comment": "很满意"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.rating, request.rating_comment) == (RequestStatus.CLOSED, 5, "很满意")
    assert 'data-testid="rating"' in client.get(response.url).content.decode()


def test_rating_someone_elses_request_is_refused(desk, login):
    request = resolved(desk)
    assert login("firm_b").post(reverse("servicedesk:rate", args=[request.pk]), {"rating": "1"}).status_code == 404
    assert login("specialist").post(reverse("servicedesk:rate", args=[request.pk]), {"rating": "1"}).status_code == 403
    assert ServiceRequest.objects.get(pk=request.pk).rating is None


def test_firm_says_not_solved(desk, login):
    request = resolved(desk)
    client = login("firm_a")
    bad = client.post(reverse("servicedesk:reopen", args=[request.pk]), {"reason": ""})
    assert bad.status_code == 400 and field_errors(bad, "reason")
    response = client.post(reverse("servicedesk:reopen", args=[request.pk]), {"reason": "问题仍未解决"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.REOPENED and request.reopen_count == 1


# ---------------------------------------------------------------- the desk's forms


def test_specialist_signs_for_replies_and_resolves(desk, login):
    request = submit(desk)
    client = login("specialist")
    assert request.title in client.get(reverse("servicedesk:queue")).content.decode()
    assert client.post(reverse("servicedesk:sign_for", args=[request.pk])).status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.SIGNED_FOR and request.signed_for_on == TODAY
    assert client.post(reverse("servicedesk:reply", args=[request.pk]), {"note": "已收到,正在协调"}).status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS and request.first_reply_on == TODAY
    bad = client.post(reverse("servicedesk:resolve", args=[request.pk]), {"resolution": "  "})
    assert bad.status_code == 400 and field_errors(bad, "resolution")
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.IN_PROGRESS
    response = client.post(reverse("servicedesk:resolve", args=[request.pk]), {"resolution": "已指导企业申报"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.RESOLVED and request.resolution == "已指导企业申报"
    page = login("firm_a").get(reverse("servicedesk:detail", args=[request.pk])).content.decode()
    assert "已收到,正在协调" in page and "已指导企业申报" in page


def test_an_illegal_step_is_refused_with_nothing_changed(desk, login):
    request = submit(desk)
    client = login("specialist")
    # Not signed for yet: the reply form is not offered and a forged post is refused.
    assert client.post(reverse("servicedesk:reply", args=[request.pk]), {"note": "x"}).status_code == 403
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.SUBMITTED


def test_specialist_asks_the_firm(desk, login):
    request = services.request_sign_for(actor=desk["specialist"], request=submit(desk))
    client = login("specialist")
    bad = client.post(reverse("servicedesk:ask_firm", args=[request.pk]), {"note": ""})
    assert bad.status_code == 400 and field_errors(bad, "note")
    assert client.post(reverse("servicedesk:ask_firm", args=[request.pk]), {"note": "请补充材料"}).status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).status == RequestStatus.WAITING_FOR_FIRM


def test_specialist_transfers_to_a_department(desk, login):
    department = Organisation.objects.create(name="区自然资源分局", kind=OrganisationKind.DISTRICT)
    request = services.request_sign_for(actor=desk["specialist"], request=submit(desk, category=Category.LAND))
    client = login("specialist")
    bad = client.post(reverse("servicedesk:transfer", args=[request.pk]), {"department": department.pk, "note": ""})
    assert bad.status_code == 400 and field_errors(bad, "note")
    assert ServiceRequest.objects.get(pk=request.pk).department != department
    response = client.post(
        reverse("servicedesk:transfer", args=[request.pk]), {"department": department.pk, "note": "用地问题转分局"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.department == department and request.assignee is None
    assert "区自然资源分局" in client.get(response.url).content.decode()


def test_staff_registers_a_request_on_a_firms_behalf(desk, login):
    client = login("service_staff")
    page = client.get(reverse("servicedesk:create") + f"?enterprise={desk['b'].pk}").content.decode()
    assert 'name="channel"' in page and 'name="enterprise"' in page
    response = client.post(
        reverse("servicedesk:create"),
        {
            "enterprise": desk["b"].pk,
            "channel": Channel.PHONE,
            "category": Category.UTILITIES,
            "title": "厂区停电频繁",
            "description": "电话反映:近一周停电三次",
        },
    )
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert (request.enterprise, request.channel, request.assignee) == (desk["b"], Channel.PHONE, desk["specialist_2"])
    assert request.submitted_by == desk["service_staff"]


def test_staff_may_register_a_labour_request_without_the_need_yet(desk, login):
    response = login("service_staff").post(
        reverse("servicedesk:create"),
        {
            "enterprise": desk["a"].pk,
            "channel": Channel.WECHAT,
            "category": Category.LABOUR,
            "title": "用工需求",
            "description": "微信反映缺工",
        },
    )
    assert response.status_code == 302
    assert ServiceRequest.objects.get().labour_headcount is None


def test_registering_without_a_firm_shows_the_error(desk, login):
    response = login("service_staff").post(
        reverse("servicedesk:create"),
        {"channel": Channel.PHONE, "category": Category.POLICY, "title": "x", "description": "y"},
    )
    assert response.status_code == 400 and field_errors(response, "enterprise")
    assert not ServiceRequest.objects.exists()


def test_visit_with_requests_in_one_step(desk, login):
    client = login("specialist")
    response = client.post(
        reverse("servicedesk:visit_create"),
        {
            "enterprise": desk["a"].pk,
            "visited_on": TODAY.isoformat(),
            "people_met": "总经理张三",
            "findings": "企业反映用工紧张,另有融资需求",
            "item0_category": Category.LABOUR,
            "item0_title": "招聘焊工",
            "item0_description": "需焊工10名",
            "item2_category": Category.FINANCING,
            "item2_title": "流动资金贷款",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.enterprise, visit.visitor, visit.people_met) == (desk["a"], desk["specialist"], "总经理张三")
    titles = set(visit.requests.values_list("title", "channel"))
    assert titles == {("招聘焊工", Channel.VISIT), ("流动资金贷款", Channel.VISIT)}
    calendar = client.get(response.url).content.decode()
    assert 'data-testid="visit"' in calendar and desk["a"].short_name in calendar


def test_visit_with_a_bad_item_writes_nothing(desk, login):
    response = login("specialist").post(
        reverse("servicedesk:visit_create"),
        {
            "enterprise": desk["a"].pk,
            "visited_on": TODAY.isoformat(),
            "findings": "走访发现问题",
            "item0_category": Category.POLICY,
            "item0_title": "",
        },
    )
    assert response.status_code == 400 and field_errors(response, "item0_title")
    assert not Visit.objects.exists() and not ServiceRequest.objects.exists()


def test_visit_without_findings_writes_nothing(desk, login):
    response = login("specialist").post(
        reverse("servicedesk:visit_create"),
        {"enterprise": desk["a"].pk, "visited_on": TODAY.isoformat(), "findings": ""},
    )
    assert response.status_code == 400 and field_errors(response, "findings")
    assert not Visit.objects.exists()


def test_visit_in_the_future_is_refused(desk, login):
    response = login("specialist").post(
        reverse("servicedesk:visit_create"),
        {"enterprise": desk["a"].pk, "visited_on": (TODAY + dt.timedelta(days=3)).isoformat(), "findings": "x"},
    )
    assert response.status_code == 400 and field_errors(response, "visited_on")
    assert not Visit.objects.exists()


# ---------------------------------------------------------------- lists, calendar, timeline, dashboard


def test_list_filters(desk, login):
    submit(desk, category=Category.LABOUR, title="缺工", labour={"positions": "焊工", "headcount": 3})
    submit(desk, "b", category=Category.POLICY, title="政策咨询")
    client = login("leader")
    page = client.get(reverse("servicedesk:list") + "?category=labour").content.decode()
    assert "缺工" in page and "政策咨询" not in page
    fragment = client.get(reverse("servicedesk:list") + "?q=飞鹿", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "政策咨询" in fragment.content.decode()


def test_queue_shows_overdue_in_red_and_escalation(desk, login):
    old = TODAY - dt.timedelta(days=30)
    late = submit(desk, title="逾期未办的诉求", on=old)
    services.escalations_run(today=TODAY)
    page = login("specialist").get(reverse("servicedesk:queue")).content.decode()
    assert "逾期未办的诉求" in page and 'data-testid="overdue"' in page and "table-danger" in page
    assert ServiceRequest.objects.get(pk=late.pk).escalation_level >= 1
    assert 'data-testid="escalated"' in page
    dashboard = login("leader").get(reverse("servicedesk:dashboard")).content.decode()
    assert "逾期未办的诉求" in dashboard


def test_visit_calendar_month_navigation(desk, login):
    day = TODAY.replace(day=1) - dt.timedelta(days=20)
    services.visit_log(
        actor=desk["specialist"], enterprise=desk["b"], visited_on=day, people_met="", findings="了解生产"
    )
    client = login("statistics")
    this_month = client.get(reverse("servicedesk:visits")).content.decode()
    assert 'data-testid="visit"' not in this_month
    page = client.get(reverse("servicedesk:visits") + f"?month={day:%Y-%m}").content.decode()
    assert 'data-testid="visit"' in page and desk["b"].short_name in page and str(desk["specialist"]) in page
    assert client.get(reverse("servicedesk:visits") + "?month=bogus").status_code == 200


def test_enterprise_timeline_on_the_firm_page(desk, login):
    services.visit_log(
        actor=desk["specialist"], enterprise=desk["a"], visited_on=TODAY, people_met="", findings="走访了解"
    )
    submit(desk, title="甲企业诉求")
    submit(desk, "b", title="乙企业诉求")
    client = login("project")
    firm_page = client.get(reverse("enterprises:detail", args=[desk["a"].pk])).content.decode()
    url = reverse("servicedesk:enterprise_timeline", args=[desk["a"].pk])
    assert url in firm_page
    fragment = client.get(url).content.decode()
    assert "走访了解" in fragment and "甲企业诉求" in fragment and "乙企业诉求" not in fragment
    # The firm's own page has no timeline tab, and the fragment is staff-only.
    assert url not in login("firm_a").get(reverse("enterprises:detail", args=[desk["a"].pk])).content.decode()
    assert login("firm_a").get(url).status_code == 403


def test_dashboard_counts_and_links(desk, login):
    request = resolved(desk)
    services.request_rate(actor=desk["firm_a"], request=request, rating=4)
    submit(desk, category=Category.LABOUR, labour={"positions": "焊工", "headcount": 7, "skills": "焊接"})
    submit(desk, category=Category.FINANCING, financing={"amount": "300", "share_with_banks": True})
    response = login("leader").get(reverse("servicedesk:dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    overall = response.context["overall"]
    assert overall["f"]["received"] == 3 and overall["f"]["resolved"] == 1
    assert overall["reply_rate"] == "33.3%" and overall["average_rating"] == "4.00"
    assert 'data-testid="labour-headcount">7<' in page
    assert response.context["d"]["financing_needs"]["amount"] == Decimal("300")
    assert 'id="volume-chart"' in page and "plotly/plotly.min.js" in page
    assert f"?year={TODAY.year}&amp;resolved=true" in page
    listed = login("leader").get(reverse("servicedesk:list") + f"?year={TODAY.year}&resolved=true")
    assert listed.context["total"] == 1
    assert login("leader").get(reverse("servicedesk:dashboard") + "?year=abc").status_code == 200
