"""The audit trail: append-only rows, a read-only admin, and the 变更记录 tab on an object's page."""

import re

import pytest
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import translation

from zhiyuan.core.models import AuditEntry
from zhiyuan.core.selectors import audit_history
from zhiyuan.core.services import audit_record, audit_record_many, diff, snapshot
from zhiyuan.enterprises.models import Enterprise, Status
from zhiyuan.enterprises.services import enterprise_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(personas, firm_a):
    enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"staff": 4800})
    return AuditEntry.objects.get(action="enterprises.enterprise.updated")


# ---------------------------------------------------------------- append-only


def test_saving_an_existing_entry_raises(entry):
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    entry.refresh_from_db()
    assert entry.action == "enterprises.enterprise.updated"


def test_deleting_an_entry_raises(entry):
    with pytest.raises(PermissionError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_raises(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(changes={})
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(actor_repr="someone else")
    entry.refresh_from_db()
    assert entry.changes == {"staff": [5000, 4800]}


def test_queryset_delete_raises(entry):
    count = AuditEntry.objects.count()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == count


def test_bulk_update_raises(entry):
    entry.actor_repr = "someone else"
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["actor_repr"])
    assert AuditEntry.objects.get(pk=entry.pk).actor_repr == "陈专员"


def test_update_or_create_cannot_rewrite_an_entry(entry):
    with pytest.raises(PermissionError):
        AuditEntry.objects.update_or_create(pk=entry.pk, defaults={"action": "tampered"})
    assert AuditEntry.objects.get(pk=entry.pk).action == "enterprises.enterprise.updated"


# ---------------------------------------------------------------- recording


def test_audit_record_captures_actor_object_and_changes(personas, firm_a):
    recorded = audit_record(
        actor=personas["admin"], action="enterprises.enterprise.checked", obj=firm_a, changes={"x": [1, 2]}
    )
    assert recorded.actor == personas["admin"]
    assert recorded.actor_repr == "管理员"
    assert recorded.content_type == ContentType.objects.get_for_model(Enterprise)
    assert recorded.object_id == str(firm_a.pk)
    assert recorded.object_repr == firm_a.name
    assert recorded.at is not None
    assert audit_history(firm_a).first() == recorded


def test_audit_record_many_writes_one_entry_per_object(firm_a, firm_b):
    before = AuditEntry.objects.count()
    written = audit_record_many(
        actor=None, action="enterprises.enterprise.imported", objs=[firm_a, firm_b],
        changes_for=lambda obj: {"name": [None, obj.name]},
    )
    assert written == 2
    assert AuditEntry.objects.count() == before + 2
    latest = audit_history(firm_b).first()
    assert latest.action == "enterprises.enterprise.imported"
    assert latest.actor is None and latest.actor_repr == "system"
    assert latest.changes == {"name": [None, firm_b.name]}
    assert audit_record_many(actor=None, action="x.y.z", objs=[]) == 0


def test_history_is_per_object_and_newest_first(personas, firm_a, firm_b):
    enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"staff": 4800})
    enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"staff": 4700})
    actions = [e.action for e in audit_history(firm_a)]
    assert actions == ["enterprises.enterprise.updated", "enterprises.enterprise.updated",
                       "enterprises.enterprise.created"]
    assert [e.changes.get("staff") for e in audit_history(firm_a)][:2] == [[4800, 4700], [5000, 4800]]
    assert all(e.object_id == str(firm_b.pk) for e in audit_history(firm_b))


def test_snapshot_and_diff(firm_a):
    before = snapshot(firm_a, ["name", "staff", "industry", "tags"])
    assert before["tags"] == []
    assert before["industry"].startswith("3240")
    after = dict(before, staff=1)
    assert diff(before, after) == {"staff": [before["staff"], 1]}
    assert diff(before, before) == {}


# ---------------------------------------------------------------- the admin


def test_admin_offers_no_add_change_or_delete(rf, personas, entry):
    model_admin = site._registry[AuditEntry]
    request = rf.get("/admin/core/auditentry/")
    request.user = personas["admin"]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert model_admin.has_view_permission(request, entry)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_admin_pages_are_read_only(login, entry):
    client = login("admin")
    listing = client.get("/admin/core/auditentry/")
    assert listing.status_code == 200
    assert "enterprises.enterprise.updated" in listing.content.decode()
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    page = client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert f"/admin/core/auditentry/{entry.pk}/delete/" not in html
    assert client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"action": "tampered"}).status_code == 403
    assert client.get(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    assert client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(
        "/admin/core/auditentry/", {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    )
    assert response.status_code in {200, 302}
    entry.refresh_from_db()
    assert entry.action == "enterprises.enterprise.updated"


@pytest.mark.parametrize("key", ["leader", "specialist", "firm_a"])
def test_only_the_administrator_reaches_the_admin(login, key):
    response = login(key).get("/admin/core/auditentry/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# ---------------------------------------------------------------- the 变更记录 tab


def _history_cell_texts(html: str) -> list[str]:
    table = html[html.index('data-testid="history"'):]
    table = table[: table.index("</table>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", div)).strip() for div in re.findall(r"<div>(.*?)</div>", table)]


def test_detail_page_history_tab_lists_the_change_with_the_field_label(login, personas, firm_a):
    enterprise_update(
        actor=personas["specialist"], enterprise=firm_a, data={"staff": 4800, "contact_name": "李四"}
    )
    html = login("leader").get(f"/enterprises/{firm_a.pk}/").content.decode()
    assert 'lang="zh-hans"' in html
    assert "变更记录" in html
    with translation.override("zh-hans"):
        staff_label = str(Enterprise._meta.get_field("staff").verbose_name)
        contact_label = str(Enterprise._meta.get_field("contact_name").verbose_name)
    assert contact_label != "contact_name"
    changes = _history_cell_texts(html)
    assert f"{staff_label}: 5000 → 4800" in changes
    assert f"{contact_label}: 张三 → 李四" in changes
    assert "<strong>contact_name</strong>" not in html
    assert "陈专员" in html  # who made the change


def test_history_tab_shows_choice_labels_not_codes(login, personas, firm_b):
    enterprise_update(actor=personas["specialist"], enterprise=firm_b, data={"status": "moved_out"})
    changes = _history_cell_texts(login("specialist").get(f"/enterprises/{firm_b.pk}/").content.decode())
    with translation.override("zh-hans"):
        status_label = str(Enterprise._meta.get_field("status").verbose_name)
        expected = f"{status_label}: {Status.OPERATING.label} → {Status.MOVED_OUT.label}"
    assert Status.OPERATING.label != "operating"
    assert expected in changes


def test_history_tab_masks_personal_data_for_roles_that_see_it_masked(login, personas, firm_a):
    enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"contact_phone": "13900001111"})
    masked = "\n".join(_history_cell_texts(login("leader").get(f"/enterprises/{firm_a.pk}/").content.decode()))
    assert "138****1234" in masked and "139****1111" in masked
    assert "13812341234" not in masked and "13900001111" not in masked
    clear = "\n".join(_history_cell_texts(login("specialist").get(f"/enterprises/{firm_a.pk}/").content.decode()))
    assert "13812341234" in clear and "13900001111" in clear
    # The stored trail itself keeps the real values.
    assert AuditEntry.objects.filter(action="enterprises.enterprise.updated").get().changes == {
        "contact_phone": ["13812341234", "13900001111"]
    }


@pytest.mark.parametrize(
    "action",
    [
        "servicedesk.request.reply",
        "servicedesk.request.sign_for",
        "servicedesk.request.escalate",
        "investments.project.postpone",
        "investments.project.under_construction",
        "enterprises.enterprise.imported",
    ],
)
def test_every_recorded_action_has_a_chinese_label(action):
    from django.utils import translation

    from zhiyuan.core.templatetags.zhiyuan import action_label

    with translation.override("zh-hans"):
        label = action_label(action)
    assert label != action and not any("a" <= ch.lower() <= "z" for ch in label)
