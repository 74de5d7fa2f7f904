"""Investments ↔ approvals: 开工 may require the construction permit (建筑工程施工许可证), and the project
page lists the project's approval applications."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from zhiyuan.approvals.models import Application, ApplicationStatus, ApprovalItem, Decision
from zhiyuan.core.errors import ValidationFailed
from zhiyuan.investments import services
from zhiyuan.investments.models import Project, Stage, StageChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(firm_a):
    """Firm A's project in preliminary work, with its code, ready to start construction."""
    return Project.objects.create(
        name="硬质合金深加工项目", code="2019-430202-34-03-012345", stage=Stage.PREPARING, pool="reserve",
        enterprise=firm_a, contract_date=dt.date(2019, 3, 1), total_investment=50000,
    )


@pytest.fixture
def permit_item():
    return ApprovalItem.objects.get(code="construction_permit")


_numbers = iter(range(1, 10_000))


def make_application(project, item, *, status=ApplicationStatus.IN_REVIEW, **fields) -> Application:
    return Application.objects.create(
        number=f"SP-TEST-{next(_numbers):05d}", item=item, project=project, enterprise=project.enterprise,
        project_code=project.code, status=status, contact_name="张三", contact_phone="13812341234", **fields,
    )


def start(personas, project):
    return services.project_transition(
        actor=personas["project"], project=project, to_stage=Stage.UNDER_CONSTRUCTION,
        data={"actual_start": timezone.localdate() - dt.timedelta(days=1)},
    )


# ---------------------------------------------------------------- the 开工 rule


def test_without_the_setting_construction_starts_without_a_permit(settings, personas, project):
    settings.ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT = False
    assert start(personas, project).stage == Stage.UNDER_CONSTRUCTION


def test_with_the_setting_construction_cannot_start_without_the_permit(settings, personas, project, permit_item):
    settings.ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT = True
    make_application(project, permit_item)  # applied for, but not yet granted
    with pytest.raises(ValidationFailed) as caught:
        start(personas, project)
    assert "to_stage" in caught.value.fields
    assert "建筑工程施工许可证" in str(caught.value.fields["to_stage"][0])
    project.refresh_from_db()
    assert project.stage == Stage.PREPARING and project.actual_start is None
    assert not StageChange.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("item_code", "decision"),
    [("construction_permit", Decision.DENIED), ("works_planning_permit", Decision.GRANTED)],
    ids=["permit-denied", "other-item-granted"],
)
def test_only_a_granted_construction_permit_counts(settings, personas, project, item_code, decision):
    settings.ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT = True
    item = ApprovalItem.objects.get(code=item_code)
    status = ApplicationStatus.GRANTED if decision == Decision.GRANTED else ApplicationStatus.DENIED
    make_application(project, item, status=status, decision=decision)
    with pytest.raises(ValidationFailed):
        start(personas, project)


def test_with_the_setting_a_granted_permit_lets_construction_start(settings, personas, project, permit_item):
    settings.ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT = True
    make_application(
        project, permit_item, status=ApplicationStatus.COLLECTED, decision=Decision.GRANTED,
        certificate_number="430200202600001", certificate_date=timezone.localdate(),
    )
    assert start(personas, project).stage == Stage.UNDER_CONSTRUCTION


def test_a_permit_granted_to_another_project_does_not_count(settings, personas, project, permit_item, firm_b):
    settings.ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT = True
    other = Project.objects.create(
        name="其他项目", code="2019-430202-26-03-000777", stage=Stage.PREPARING, pool="reserve", enterprise=firm_b
    )
    make_application(other, permit_item, status=ApplicationStatus.GRANTED, decision=Decision.GRANTED)
    with pytest.raises(ValidationFailed):
        start(personas, project)


def test_the_page_shows_the_refusal_on_the_transition_form(settings, login, project):
    settings.ZHIYUAN_START_REQUIRES_CONSTRUCTION_PERMIT = True
    response = login("project").post(
        reverse("investments:transition", args=[project.pk]),
        {"to_stage": "under_construction", "actual_start": (timezone.localdate() - dt.timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 400
    assert "建筑工程施工许可证" in response.content.decode()
    project.refresh_from_db()
    assert project.stage == Stage.PREPARING


# ---------------------------------------------------------------- the project page's approvals tab


def detail(client, project):
    return client.get(reverse("investments:detail", args=[project.pk]), {"tab": "approvals"})


def test_the_project_page_lists_the_projects_applications(login, project, permit_item):
    granted = make_application(
        project, permit_item, status=ApplicationStatus.GRANTED, decision=Decision.GRANTED,
        city_case_number="ZZSP-2026-000042", certificate_number="430200202600001",
        certificate_date=dt.date(2026, 3, 2),
    )
    other_item = ApprovalItem.objects.exclude(pk=permit_item.pk).first()
    draft = make_application(project, other_item, status=ApplicationStatus.DRAFT)
    for key in ("firm_a", "window_clerk", "leader"):
        response = detail(login(key), project)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="tab-approvals"' in html and 'id="tab-approvals"' in html
        assert html.count('data-testid="project-application"') == 2
        assert f'href="{reverse("approvals:detail", args=[granted.pk])}"' in html
        assert granted.number in html and draft.number in html
        assert "ZZSP-2026-000042" in html and "430200202600001" in html and "2026-03-02" in html
        assert 'data-status="granted"' in html and 'data-status="draft"' in html


def test_the_new_application_button_is_for_the_firm_and_the_window(login, project):
    expected = f'href="{reverse("approvals:create")}?project={project.pk}"'
    for key in ("firm_a", "window_clerk", "admin"):
        html = detail(login(key), project).content.decode()
        assert 'data-testid="new-application"' in html and expected in html, key
    for key in ("leader", "project", "investment"):
        assert 'data-testid="new-application"' not in detail(login(key), project).content.decode(), key


def test_a_project_without_an_enterprise_offers_no_new_application(login):
    lead = Project.objects.create(name="线索项目", stage=Stage.LEAD, pool="attraction", investor_name="某投资方")
    html = detail(login("window_clerk"), lead).content.decode()
    assert 'data-testid="new-application"' not in html
    assert 'data-testid="project-applications"' in html


def test_another_firm_sees_neither_the_project_nor_its_applications(login, project, permit_item):
    make_application(project, permit_item)
    assert detail(login("firm_b"), project).status_code == 404
