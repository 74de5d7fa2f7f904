"""The approval desk's admin: the catalogue is edited through item_save (audited); applications are read-only."""

import pytest
from django.urls import reverse

from zhiyuan.approvals.models import Application, ApprovalItem
from zhiyuan.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def item_form_data(item: ApprovalItem, **changes) -> dict:
    """The admin change form of `item` as the browser would post it, with its materials inline."""
    data = {
        "name": item.name,
        "department": item.department,
        "time_limit_workdays": item.time_limit_workdays,
        "legal_basis": item.legal_basis,
        "description": item.description,
        "requires_project_code": "on" if item.requires_project_code else "",
        "order": item.order,
        "is_active": "on" if item.is_active else "",
        **changes,
    }
    materials = list(item.materials.all())
    data.update({
        "materials-TOTAL_FORMS": len(materials) + 1,
        "materials-INITIAL_FORMS": len(materials),
        "materials-MIN_NUM_FORMS": 0,
        "materials-MAX_NUM_FORMS": 1000,
    })
    for i, material in enumerate(materials):
        data.update({
            f"materials-{i}-id": material.pk,
            f"materials-{i}-item": item.pk,
            f"materials-{i}-order": material.order,
            f"materials-{i}-name": material.name,
            f"materials-{i}-required": "on" if material.required else "",
            f"materials-{i}-file_types": material.file_types,
            f"materials-{i}-note": material.note,
        })
    return data


def test_saving_an_item_in_the_admin_goes_through_the_service_and_is_audited(login, permit_item):
    data = item_form_data(permit_item, time_limit_workdays=5)
    n = len(permit_item.materials.all())
    data.update({
        f"materials-{n}-item": permit_item.pk,
        f"materials-{n}-order": 99,
        f"materials-{n}-name": "安全生产承诺书",
        f"materials-{n}-required": "",
        f"materials-{n}-file_types": ".pdf",
        f"materials-{n}-note": "",
    })
    response = login("admin").post(reverse("admin:approvals_approvalitem_change", args=[permit_item.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    permit_item.refresh_from_db()
    assert permit_item.time_limit_workdays == 5
    assert permit_item.materials.filter(name="安全生产承诺书", required=False).exists()
    actions = set(
        AuditEntry.objects.filter(object_id=str(permit_item.pk), content_type__model="approvalitem").values_list(
            "action", flat=True
        )
    )
    assert {"approvals.item.saved", "approvals.item.materials_saved"} <= actions


def test_an_items_code_cannot_be_changed_nor_the_item_deleted(login, permit_item):
    client = login("admin")
    url = reverse("admin:approvals_approvalitem_change", args=[permit_item.pk])
    client.post(url, item_form_data(permit_item, code="changed"))
    permit_item.refresh_from_db()
    assert permit_item.code == "construction_permit"
    delete_url = reverse("admin:approvals_approvalitem_delete", args=[permit_item.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ApprovalItem.objects.filter(pk=permit_item.pk).exists()


def test_applications_are_read_only_in_the_admin(login, project_a, permit_item):
    application = Application.objects.create(
        number="SP-ADMIN-1", item=permit_item, project=project_a, enterprise=project_a.enterprise,
        contact_name="张三", contact_phone="13812341234",
    )
    client = login("admin")
    listing = client.get(reverse("admin:approvals_application_changelist"), {"status__exact": "draft"})
    assert listing.status_code == 200 and "SP-ADMIN-1" in listing.content.decode()
    assert client.get(reverse("admin:approvals_application_add")).status_code == 403
    change_url = reverse("admin:approvals_application_change", args=[application.pk])
    assert client.get(change_url).status_code == 200
    assert client.post(change_url, {"status": "granted"}).status_code == 403
    application.refresh_from_db()
    assert application.status == "draft"
