"""People's decisions on mapped firms, targets (validation, updates), their Excel import (all or
nothing, every bad row reported) and turning a target into an investment lead."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from zhiyuan.chains import services
from zhiyuan.chains.models import MappingStatus, NodeFirm, Target, TargetStatus
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.enterprises.models import Status as EnterpriseStatus
from zhiyuan.investments.models import Project, Stage

# -- firms at nodes ------------------------------------------------------------------------------------


def test_confirm_reject_and_key_are_recorded_and_audited(personas, firm_a, node):
    officer = personas["project"]
    services.nodes_map_suggest()
    firm = NodeFirm.objects.get(node=node("硬质合金棒材/刀片"), enterprise=firm_a)

    services.node_firm_set_key(actor=officer, node_firm=firm, is_key=True)
    firm.refresh_from_db()
    assert (firm.status, firm.is_key, firm.decided_by) == (MappingStatus.CONFIRMED, True, officer)

    services.node_firm_reject(actor=officer, node_firm=firm)
    firm.refresh_from_db()
    assert (firm.status, firm.is_key) == (MappingStatus.REJECTED, False)
    with pytest.raises(ConflictError):
        services.node_firm_set_key(actor=officer, node_firm=firm, is_key=True)

    services.node_firm_confirm(actor=officer, node_firm=firm)
    firm.refresh_from_db()
    assert firm.status == MappingStatus.CONFIRMED
    entries = AuditEntry.objects.filter(object_id=str(firm.pk), action__startswith="chains.nodefirm.").order_by("id")
    actions = list(entries.values_list("action", flat=True))
    assert actions == ["chains.nodefirm.confirmed", "chains.nodefirm.rejected", "chains.nodefirm.confirmed"]

    # Confirming what is already confirmed changes nothing and records nothing.
    services.node_firm_confirm(actor=officer, node_firm=firm)
    assert entries.count() == 3


def test_a_firm_is_added_by_hand_or_a_suggestion_confirmed_in_place(personas, firm_a, firm_b, node, make_firm):
    officer = personas["investment"]
    services.nodes_map_suggest()
    carbide = node("硬质合金棒材/刀片")
    suggested = NodeFirm.objects.get(node=carbide, enterprise=firm_a)

    added = services.node_firm_add(actor=officer, node=carbide, enterprise=firm_b, is_key=True)
    assert (added.status, added.is_key, added.matched_by) == (MappingStatus.CONFIRMED, True, services.MANUAL)
    again = services.node_firm_add(actor=officer, node=carbide, enterprise=firm_a)
    assert again.pk == suggested.pk and again.status == MappingStatus.CONFIRMED
    assert again.matched_by == "ic=3240"

    gone = make_firm(401, "已迁出企业", status=EnterpriseStatus.MOVED_OUT)
    with pytest.raises(ValidationFailed) as error:
        services.node_firm_add(actor=officer, node=carbide, enterprise=gone)
    assert "enterprise" in error.value.fields


@pytest.mark.parametrize("role", ["leader", "specialist", "window_clerk", "firm_a", "bank"])
def test_only_the_mapping_roles_decide(personas, firm_a, node, role):
    services.nodes_map_suggest()
    firm = NodeFirm.objects.get(node=node("硬质合金棒材/刀片"), enterprise=firm_a)
    for call in (services.node_firm_confirm, services.node_firm_reject):
        with pytest.raises(PermissionDeniedError):
            call(actor=personas[role], node_firm=firm)
    with pytest.raises(PermissionDeniedError):
        services.node_firm_add(actor=personas[role], node=firm.node, enterprise=firm_a)
    firm.refresh_from_db()
    assert firm.status == MappingStatus.SUGGESTED


# -- targets -------------------------------------------------------------------------------------------


def test_a_target_needs_a_name_unique_at_its_node(personas, node):
    officer = personas["investment"]
    motors = node("牵引电机")
    target = services.target_create(
        actor=officer,
        node=motors,
        data={"name": "  中车永济电机有限公司 ", "location": "山西永济", "main_products": "牵引电机", "reason": "补链"},
    )
    assert (target.name, target.created_by, target.status) == ("中车永济电机有限公司", officer, TargetStatus.IDENTIFIED)
    assert AuditEntry.objects.filter(action="chains.target.created", object_id=str(target.pk)).exists()

    with pytest.raises(ValidationFailed) as error:
        services.target_create(actor=officer, node=motors, data={"name": "中车永济电机有限公司"})
    assert "name" in error.value.fields
    # The same firm may be targeted at another node.
    services.target_create(actor=officer, node=node("牵引变流器"), data={"name": "中车永济电机有限公司"})

    for bad in ({"name": ""}, {"name": "   "}, {"location": "湖南"}, {"name": "x" * 201}, {"name": "甲", "stage": "x"}):
        with pytest.raises(ValidationFailed):
            services.target_create(actor=officer, node=motors, data=bad)
    assert Target.objects.filter(node=motors).count() == 1


@pytest.mark.parametrize("role", ["project", "leader", "specialist", "firm_a", "bank"])
def test_only_the_investment_office_enters_targets(personas, node, role):
    with pytest.raises(PermissionDeniedError):
        services.target_create(actor=personas[role], node=node("牵引电机"), data={"name": "甲公司"})
    assert not Target.objects.exists()


def test_a_target_is_corrected_and_moves_between_statuses(personas, node):
    officer = personas["investment"]
    motors = node("牵引电机")
    services.target_create(actor=officer, node=motors, data={"name": "乙公司"})
    target = services.target_create(actor=officer, node=motors, data={"name": "甲公司"})

    updated = services.target_update(actor=officer, target=target, data={"status": "contacted", "contact": "王经理"})
    assert (updated.status, updated.contact) == (TargetStatus.CONTACTED, "王经理")
    entry = AuditEntry.objects.get(action="chains.target.updated", object_id=str(target.pk))
    assert entry.changes["status"] == ["identified", "contacted"]

    for data in ({"status": "lead"}, {"status": "nonsense"}, {"name": "乙公司"}, {"name": ""}):
        with pytest.raises(ValidationFailed):
            services.target_update(actor=officer, target=target, data=data)

    services.target_to_lead(actor=officer, target=target)
    with pytest.raises(ConflictError):
        services.target_update(actor=officer, target=target, data={"status": "dropped"})
    services.target_update(actor=officer, target=target, data={"reason": "龙头企业"})


# -- target → lead ---------------------------------------------------------------------------------------


def test_a_target_becomes_a_lead_keeping_the_link(personas, node):
    officer = personas["investment"]
    target = services.target_create(
        actor=officer,
        node=node("牵引电机"),
        data={
            "name": "中车永济电机有限公司",
            "location": "山西永济",
            "main_products": "牵引电机 辅助电机",
            "reason": "本地牵引电机配套不足",
            "contact": "张经理 13800000000",
        },
    )
    with translation.override("en"):
        project = services.target_to_lead(actor=officer, target=target)

    project.refresh_from_db()
    assert project.stage == Stage.LEAD
    assert project.name == "Bring in 中车永济电机有限公司 牵引电机 辅助电机"
    assert project.investor_name == "中车永济电机有限公司"
    assert project.chain == "rail"
    assert "本地牵引电机配套不足" in project.description and "牵引电机" in project.description
    assert "轨道交通装备配套" in project.description
    assert project.investment_officer == officer
    target.refresh_from_db()
    assert (target.project, target.status) == (project, TargetStatus.LEAD)
    assert project.chain_target == target
    assert AuditEntry.objects.filter(action="chains.target.to_lead", object_id=str(target.pk)).exists()
    assert AuditEntry.objects.filter(action="investments.project.created", object_id=str(project.pk)).exists()

    with pytest.raises(ConflictError):
        services.target_to_lead(actor=officer, target=target)
    with pytest.raises(ConflictError):
        services.target_to_lead(actor=officer, target=Target.objects.get(pk=target.pk))
    assert Project.objects.count() == 1


@pytest.mark.parametrize("role", ["project", "leader", "statistics", "firm_a", "bank"])
def test_only_the_investment_office_turns_targets_into_leads(personas, node, role):
    target = services.target_create(actor=personas["investment"], node=node("原料药"), data={"name": "甲药业"})
    with pytest.raises(PermissionDeniedError):
        services.target_to_lead(actor=personas[role], target=target)
    target.refresh_from_db()
    assert target.project is None and not Project.objects.exists()


# -- import ----------------------------------------------------------------------------------------------


HEADERS = ["产业链", "环节/节点", "企业名称", "所在地", "主营产品", "理由", "联系方式"]


def _workbook(rows, headers=HEADERS, title=None) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("targets.xlsx", buffer.getvalue())


GOOD_ROWS = [
    ["轨道交通装备配套", "牵引电机", "中车永济电机有限公司", "山西永济", "牵引电机", "补链", "张经理"],
    ["rail", "制动/制动系统", "克诺尔车辆设备（苏州）有限公司", "江苏苏州", "制动系统", "外资龙头", ""],
    ["新材料", "碳纤维/原丝", "吉林化纤集团有限责任公司", "吉林", "碳纤维原丝", "本地空白", None],
    ["医学健康", " 原料药 ", "浙江华海药业股份有限公司", "浙江临海", "原料药", "", 13800000000],
]


def test_a_good_sheet_is_checked_then_imported(personas, node):
    officer = personas["investment"]
    report = services.target_import(actor=officer, file=_workbook(GOOD_ROWS, title="招商目标清单"), dry_run=True)
    assert report.ok and not report.written and len(report.rows) == 4
    assert not Target.objects.exists()

    report = services.target_import(actor=officer, file=_workbook(GOOD_ROWS), dry_run=False)
    assert report.written
    assert Target.objects.count() == 4
    braking = Target.objects.get(name="克诺尔车辆设备（苏州）有限公司")
    assert braking.node == node("制动系统") and braking.created_by == officer
    assert Target.objects.get(name="浙江华海药业股份有限公司").contact == "13800000000"
    assert Target.objects.get(name="吉林化纤集团有限责任公司").node == node("原丝")
    assert AuditEntry.objects.filter(action="chains.target.imported").count() == 4


def test_bad_rows_are_all_reported_and_nothing_is_written(personas, node):
    officer = personas["investment"]
    services.target_create(actor=officer, node=node("牵引电机"), data={"name": "已有目标公司"})
    rows = [
        *GOOD_ROWS,
        ["未知产业链", "牵引电机", "甲公司", "", "", "", ""],  # row 6
        ["轨道交通装备配套", "不存在的节点", "乙公司", "", "", "", ""],  # row 7
        ["轨道交通装备配套", "牵引电机", "", "", "", "", ""],  # row 8
        ["轨道交通装备配套", "牵引电机", "已有目标公司", "", "", "", ""],  # row 9
        ["新材料", "钨钼原料", "丙公司", "", "", "", ""],  # row 10
        ["新材料", "钨钼原料", "丙公司", "", "", "", ""],  # row 11: repeats row 10
        ["", "", "丁公司", "x" * 101, "", "", ""],  # row 12
    ]
    with translation.override("en"):
        report = services.target_import(actor=officer, file=_workbook(rows), dry_run=False)
    assert not report.written
    assert report.bad_rows == [6, 7, 8, 9, 11, 12]
    by_row = {(error.row, error.column) for error in report.errors}
    assert {(6, "产业链"), (7, "环节/节点"), (8, "企业名称"), (9, "企业名称"), (11, "企业名称")} <= by_row
    assert {(12, "产业链"), (12, "环节/节点"), (12, "所在地")} <= by_row
    assert Target.objects.count() == 1


def test_unreadable_files_and_missing_columns_are_refused(personas):
    officer = personas["investment"]
    for upload in (
        SimpleUploadedFile("targets.xlsx", b"not a workbook"),
        SimpleUploadedFile("targets.csv", "产业链,企业名称\n新材料,甲\n".encode()),
        _workbook(GOOD_ROWS, headers=["产业链", "企业名称", "所在地"]),
        _workbook([], headers=HEADERS),
    ):
        with pytest.raises(ValidationFailed) as error:
            services.target_import(actor=officer, file=upload, dry_run=True)
        assert "file" in error.value.fields
    assert not Target.objects.exists()


def test_a_node_name_shared_by_two_segments_needs_its_segment(personas, node):
    officer = personas["investment"]
    original = node("牵引电机")
    twin = node("牵引电机")
    twin.pk = None
    twin.segment = node("齿轮/齿轮箱").segment
    twin.save()
    rows = [
        ["rail", "牵引电机", "甲公司", "", "", "", ""],
        ["rail", "传动与走行/牵引电机", "乙公司", "", "", "", ""],
        ["rail", "牵引与电气 · 牵引电机", "丙公司", "", "", "", ""],
    ]
    report = services.target_import(actor=officer, file=_workbook(rows), dry_run=True)
    assert report.bad_rows == [2]
    assert [row.node for row in report.rows] == [twin, original]


def test_only_the_investment_office_imports(personas):
    with pytest.raises(PermissionDeniedError):
        services.target_import(actor=personas["project"], file=_workbook(GOOD_ROWS), dry_run=True)


def test_the_template_is_a_sheet_the_import_reads(personas):
    upload = SimpleUploadedFile("template.xlsx", services.target_template_workbook())
    report = services.target_import(actor=personas["investment"], file=upload, dry_run=True)
    assert report.ok and len(report.rows) == 1
