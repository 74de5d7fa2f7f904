"""The demo approval desk: about 25 applications over the nine items in every state the window can put
them in, loaded through the services; each accepted one has its one message to the city in the outbox;
the overdue ones give the §32 sweep work; a second run writes nothing."""

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from zhiyuan.accounts.models import User
from zhiyuan.approvals.models import Application, ApplicationEvent, ApplicationMaterial, ApprovalItem, EventKind
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.approvals.services import applications_accept_overdue, missing_materials
from zhiyuan.core.models import AuditEntry
from zhiyuan.datalink.models import OutboxMessage
from zhiyuan.demo.approvals import demo_approvals_load, demo_pdf, weekdays_before
from zhiyuan.demo.services import demo_load

pytestmark = [pytest.mark.django_db, pytest.mark.collection_day]  # dates computed at import

TODAY = timezone.localdate()
EXPECTED_MIX = {S.DRAFT: 4, S.SUBMITTED: 6, S.CORRECTION: 3, S.REJECTED: 2, S.WITHDRAWN: 2, S.ACCEPTED: 8}


def _counts() -> tuple[int, ...]:
    return (
        Application.objects.count(),
        ApplicationMaterial.objects.count(),
        ApplicationEvent.objects.count(),
        OutboxMessage.objects.count(),
        AuditEntry.objects.count(),
    )


def _the_mix_of_states(loaded):
    demo = Application.objects.filter(is_demo=True)
    assert Counter(demo.values_list("status", flat=True)) == EXPECTED_MIX
    assert loaded.approvals.applications_created == demo.count() == sum(EXPECTED_MIX.values())
    assert set(demo.values_list("item__code", flat=True)) == set(ApprovalItem.objects.values_list("code", flat=True))
    for application in demo.select_related("project", "enterprise"):
        assert application.project.is_demo and application.project.code
        assert application.project_code == application.project.code
        assert application.enterprise_id == application.project.enterprise_id
    # Drafts lack required materials; everything that reached the window was complete.
    assert all(missing_materials(a) for a in demo.filter(status=S.DRAFT))
    assert not any(missing_materials(a) for a in demo.exclude(status__in=[S.DRAFT, S.WITHDRAWN, S.CORRECTION]))
    assert all(a.correction_items for a in demo.filter(status=S.CORRECTION))
    assert all(a.rejection_reason for a in demo.filter(status=S.REJECTED))
    # One accepted after a correction, one resubmitted and waiting.
    corrected = demo.filter(corrections_requested=True)
    assert corrected.filter(status=S.ACCEPTED).count() == 1
    assert corrected.filter(status=S.SUBMITTED).count() == 1
    assert ApplicationEvent.objects.filter(application__in=corrected, kind=EventKind.RESUBMITTED).count() == 2


def _materials_are_generated_pdfs(loaded):
    materials = ApplicationMaterial.objects.filter(application__is_demo=True).select_related("requirement")
    assert materials.count() > 50
    for material in materials[:10]:
        with material.file.open("rb") as handle:
            content = handle.read()
        assert content.startswith(b"%PDF-1.4\n") and material.requirement.name.encode() in content
        assert material.size == len(content)


def _the_firms_apply_themselves_and_the_clerk_acts_at_the_window(loaded):
    for username in ("firm_a", "firm_b"):
        user = User.objects.get(username=username)
        own = Application.objects.filter(is_demo=True, enterprise_id=user.enterprise_id, created_by=user)
        assert own.count() >= 2
    clerk = User.objects.get(username="chuangkou")
    window_steps = ApplicationEvent.objects.filter(
        application__is_demo=True, kind__in=[EventKind.ACCEPTED, EventKind.REJECTED, EventKind.CORRECTION_REQUESTED]
    )
    assert window_steps.exists() and set(window_steps.values_list("actor", flat=True)) == {clerk.pk}


def _every_accepted_one_has_exactly_one_outbox_message(loaded):
    accepted = Application.objects.filter(is_demo=True, status=S.ACCEPTED)
    assert loaded.approvals.forwarded == accepted.count() == EXPECTED_MIX[S.ACCEPTED]
    for application in accepted:
        messages = OutboxMessage.objects.filter(subject=f"approvals.application:{application.pk}")
        assert messages.count() == 1
        message = messages.get()
        assert message.message_id == application.forward_message_id
        assert message.message_type == "application.submit" and message.status == "pending"
        assert message.payload["application_number"] == application.number
        assert application.received_on <= application.accepted_on <= TODAY
    others = Application.objects.filter(is_demo=True).exclude(status=S.ACCEPTED)
    assert not OutboxMessage.objects.filter(subject__in=[f"approvals.application:{a.pk}" for a in others]).exists()


def _dates_are_in_the_past_and_three_are_past_the_window_limit(loaded):
    demo = Application.objects.filter(is_demo=True)
    assert not demo.filter(received_on__gt=TODAY).exists()
    old = demo.filter(status=S.SUBMITTED, received_on__lte=TODAY - dt.timedelta(days=14))
    assert old.count() == 3
    # Their five working days have run out wherever the working-day calendar can tell.
    assert loaded.approvals.past_window_limit == old.exclude(accept_due=None).filter(accept_due__lt=TODAY).count()
    if not old.filter(accept_due=None).exists():
        assert loaded.approvals.past_window_limit == 3


def _a_second_run_writes_nothing(loaded):
    before = _counts()
    again = demo_load(count=0)
    assert again.approvals is not None and not again.approvals.loaded
    assert not demo_approvals_load().loaded
    assert _counts() == before


def _the_sweep_accepts_the_overdue_ones_by_law(loaded):
    overdue = loaded.approvals.past_window_limit
    messages = OutboxMessage.objects.count()
    assert applications_accept_overdue(today=TODAY) == overdue
    assert OutboxMessage.objects.count() == messages + overdue
    assert Application.objects.filter(is_demo=True, accepted_automatically=True).count() == overdue


def test_demo_approvals(settings, tmp_path):
    """One load (the approval desk is part of `demo_load`; the named firms only, to keep it quick)."""
    settings.MEDIA_ROOT = tmp_path
    loaded = demo_load(count=0)
    assert loaded.approvals is not None and loaded.approvals.loaded
    _the_mix_of_states(loaded)
    _materials_are_generated_pdfs(loaded)
    _the_firms_apply_themselves_and_the_clerk_acts_at_the_window(loaded)
    _every_accepted_one_has_exactly_one_outbox_message(loaded)
    _dates_are_in_the_past_and_three_are_past_the_window_limit(loaded)
    _a_second_run_writes_nothing(loaded)
    _the_sweep_accepts_the_overdue_ones_by_law(loaded)


def test_nothing_to_apply_for_loads_nothing():
    report = demo_approvals_load()
    assert not report.loaded and not Application.objects.exists()


def test_weekdays_and_pdf():
    saturday = dt.date(2026, 11, 28)
    assert weekdays_before(saturday, 0) == dt.date(2026, 11, 27)
    assert weekdays_before(saturday, 5) == dt.date(2026, 11, 20)
    content = demo_pdf("施工合同", "line (1)")
    assert content.startswith(b"%PDF-1.4\n") and "施工合同".encode() in content and content.endswith(b"%%EOF\n")
    offset = int(content.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert content[offset:].startswith(b"xref\n")
