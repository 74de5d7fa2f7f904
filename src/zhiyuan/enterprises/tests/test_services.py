"""Registry writes: validation (nothing written on bad input), size class, audit trail, who may change what."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from stdnum.cn import uscc as uscc_module

from zhiyuan.conftest import make_uscc
from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry
from zhiyuan.enterprises.models import Enterprise, SizeClass, Tag
from zhiyuan.enterprises.services import (
    EDITABLE_FIELDS,
    FIRM_EDITABLE_FIELDS,
    enterprise_create,
    enterprise_update,
    normalize_uscc,
    uscc_error,
)

pytestmark = pytest.mark.django_db

CREATED = "enterprises.enterprise.created"
UPDATED = "enterprises.enterprise.updated"


def _with_check(body: str) -> str:
    return body + uscc_module.calc_check_digit(body)


# Valid codes: generated over the registration-office/type digits, regions and alphanumeric
# organisation codes the standard allows, plus codes in the published format.
VALID_USCCS = [
    _with_check("91430202" + "MA4L0001" + "X"),
    _with_check("11430200" + "006147254"),  # 机构编制 (1), 机关 (1)
    _with_check("52430202" + "MJY12345" + "7"),  # 民政 (5), 社会团体 (2)
    _with_check("92430211" + "L12345678"),  # 个体工商户
    make_uscc(123456789),
    make_uscc(7, region="110105"),
    "91110000600037341L",
    "91350100M000100Y43",
    "91430211MA4L16JC7X",
]


def _wrong_check(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    wrong = alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]
    return code[:-1] + wrong


INVALID_USCCS = {
    "wrong check character": _wrong_check(make_uscc(42)),
    "wrong check character (published code)": "91110000600037341M",
    "too short": make_uscc(42)[:-1],
    "too long": make_uscc(42) + "0",
    "letter I": make_uscc(42)[:10] + "I" + make_uscc(42)[11:],
    "letter O": make_uscc(42)[:10] + "O" + make_uscc(42)[11:],
    "letter S": make_uscc(42)[:10] + "S" + make_uscc(42)[11:],
    "letter V": make_uscc(42)[:10] + "V" + make_uscc(42)[11:],
    "letter Z as check character": make_uscc(42)[:-1] + "Z",
    "letter in the region code": "9143A2020000000421",
    "Chinese character": make_uscc(42)[:-1] + "株",
}


def _data(**overrides) -> dict:
    data = {
        "uscc": make_uscc(900),
        "name": "湖南测试新材料有限公司",
        "industry": "3311",
        "staff": 120,
        "revenue": Decimal("8000"),
        "established_on": dt.date(2015, 6, 1),
    }
    data.update(overrides)
    return data


def _counts() -> tuple[int, int]:
    return Enterprise.objects.count(), AuditEntry.objects.count()


def _assert_rejected(call, field: str) -> ValidationFailed:
    """The call raises ValidationFailed naming `field`, and writes neither a firm nor an audit entry."""
    before = _counts()
    with pytest.raises(ValidationFailed) as excinfo:
        call()
    assert field in excinfo.value.fields, excinfo.value.fields
    assert all(str(m) for m in excinfo.value.fields[field])
    assert _counts() == before
    return excinfo.value


# ---------------------------------------------------------------- USCC samples


@pytest.mark.parametrize("code", VALID_USCCS)
def test_valid_uscc_samples_are_accepted(personas, code):
    assert uscc_error(code) is None
    enterprise = enterprise_create(actor=personas["specialist"], data=_data(uscc=code))
    assert enterprise.uscc == code


def test_uscc_is_normalised_before_checking(personas):
    code = make_uscc(31)
    spaced = f" {code[:2]} {code[2:8]}-{code[8:]} ".lower()
    assert normalize_uscc(spaced) == code
    enterprise = enterprise_create(actor=personas["specialist"], data=_data(uscc=spaced))
    enterprise.refresh_from_db()
    assert enterprise.uscc == code


@pytest.mark.parametrize("code", INVALID_USCCS.values(), ids=INVALID_USCCS.keys())
def test_invalid_uscc_samples_are_rejected_on_create(personas, code):
    assert uscc_error(code) is not None
    _assert_rejected(lambda: enterprise_create(actor=personas["specialist"], data=_data(uscc=code)), "uscc")


@pytest.mark.parametrize("code", INVALID_USCCS.values(), ids=INVALID_USCCS.keys())
def test_invalid_uscc_samples_are_rejected_on_update(personas, firm_b, code):
    _assert_rejected(
        lambda: enterprise_update(actor=personas["specialist"], enterprise=firm_b, data={"uscc": code}), "uscc"
    )
    firm_b.refresh_from_db()
    assert firm_b.uscc == make_uscc(2)


def test_uscc_error_messages_tell_the_cases_apart():
    code = make_uscc(42)
    messages = {uscc_error(code[:-1]), uscc_error(_wrong_check(code)), uscc_error(code[:10] + "I" + code[11:])}
    assert None not in messages
    assert len(messages) == 3


# ---------------------------------------------------------------- other bad input, nothing written


def test_duplicate_uscc_is_rejected_on_create(personas, firm_a):
    error = _assert_rejected(
        lambda: enterprise_create(actor=personas["specialist"], data=_data(uscc=firm_a.uscc)), "uscc"
    )
    assert "uscc" in error.fields


def test_duplicate_uscc_in_another_spelling_is_rejected(personas, firm_a):
    spelled = firm_a.uscc[:8] + " " + firm_a.uscc[8:].lower()
    _assert_rejected(lambda: enterprise_create(actor=personas["specialist"], data=_data(uscc=spelled)), "uscc")


def test_duplicate_uscc_is_rejected_on_update(personas, firm_a, firm_b):
    _assert_rejected(
        lambda: enterprise_update(actor=personas["specialist"], enterprise=firm_b, data={"uscc": firm_a.uscc}),
        "uscc",
    )


def test_keeping_its_own_uscc_is_not_a_duplicate(personas, firm_a):
    enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"uscc": firm_a.uscc, "staff": 4999})
    firm_a.refresh_from_db()
    assert firm_a.staff == 4999


@pytest.mark.parametrize("code", ["9999", "33a", "", "C", "A", "0"], ids=["unknown", "garbage", "empty", "门类 C",
                                                                          "门类 A", "one digit"])
def test_unknown_or_too_coarse_industry_is_rejected_on_create(personas, code):
    _assert_rejected(lambda: enterprise_create(actor=personas["specialist"], data=_data(industry=code)), "industry")


@pytest.mark.parametrize("code", ["33", "331", "3311"], ids=["大类", "中类", "小类"])
def test_division_group_and_class_codes_are_accepted(personas, code):
    enterprise = enterprise_create(actor=personas["specialist"], data=_data(industry=code))
    assert enterprise.industry_id == code


def test_unknown_industry_is_rejected_on_update(personas, firm_a):
    _assert_rejected(
        lambda: enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"industry": "C"}),
        "industry",
    )
    firm_a.refresh_from_db()
    assert firm_a.industry_id == "3240"


@pytest.mark.parametrize("field", ["staff", "revenue", "total_assets", "registered_capital"])
def test_negative_figures_are_rejected(personas, field):
    _assert_rejected(lambda: enterprise_create(actor=personas["specialist"], data=_data(**{field: -1})), field)


@pytest.mark.parametrize("field", ["staff", "revenue"])
def test_negative_figures_are_rejected_on_update(personas, firm_a, field):
    _assert_rejected(
        lambda: enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={field: Decimal("-0.01")}),
        field,
    )
    firm_a.refresh_from_db()
    assert (firm_a.staff, firm_a.revenue) == (5000, Decimal("500000"))


def test_future_establishment_date_is_rejected(personas):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    _assert_rejected(
        lambda: enterprise_create(actor=personas["specialist"], data=_data(established_on=tomorrow)), "established_on"
    )


def test_today_is_an_acceptable_establishment_date(personas):
    enterprise = enterprise_create(actor=personas["specialist"], data=_data(established_on=timezone.localdate()))
    assert enterprise.established_on == timezone.localdate()


def test_future_establishment_date_is_rejected_on_update(personas, firm_a):
    _assert_rejected(
        lambda: enterprise_update(
            actor=personas["specialist"], enterprise=firm_a, data={"established_on": dt.date(2999, 1, 1)}
        ),
        "established_on",
    )


@pytest.mark.parametrize("field", ["uscc", "name", "industry"])
def test_required_fields_are_required(personas, field):
    data = _data()
    del data[field]
    _assert_rejected(lambda: enterprise_create(actor=personas["specialist"], data=data), field)


def test_every_bad_field_is_reported_at_once(personas):
    error = _assert_rejected(
        lambda: enterprise_create(
            actor=personas["specialist"],
            data=_data(uscc="123", industry="C", staff=-5, established_on=dt.date(2999, 1, 1)),
        ),
        "uscc",
    )
    assert {"uscc", "industry", "staff", "established_on"} <= set(error.fields)


def test_phone_and_id_number_are_checked(personas):
    error = _assert_rejected(
        lambda: enterprise_create(
            actor=personas["specialist"], data=_data(contact_phone="call me", contact_id_number="430202199001011230")
        ),
        "contact_phone",
    )
    assert "contact_id_number" in error.fields


def test_assigned_specialist_must_be_a_specialist(personas):
    _assert_rejected(
        lambda: enterprise_create(actor=personas["specialist"], data=_data(specialist=personas["leader"])),
        "specialist",
    )


def test_fields_outside_the_registry_cannot_be_set(personas):
    _assert_rejected(
        lambda: enterprise_create(actor=personas["specialist"], data=_data(is_demo=True)),
        "is_demo",
    )


# ---------------------------------------------------------------- size class


def test_size_class_is_computed_on_create(personas, firm_a, firm_b):
    assert firm_a.size_class == SizeClass.LARGE  # 工业: 5000 staff, 500000 万元
    assert firm_b.size_class == SizeClass.MEDIUM  # 工业: 400 staff, 30000 万元
    unknown = enterprise_create(actor=personas["specialist"], data=_data(staff=None, revenue=None))
    assert unknown.size_class == SizeClass.UNKNOWN


def test_size_class_is_recomputed_when_staff_changes(personas, firm_b):
    enterprise_update(actor=personas["specialist"], enterprise=firm_b, data={"staff": 5})
    firm_b.refresh_from_db()
    assert firm_b.size_class == SizeClass.MICRO
    entry = AuditEntry.objects.filter(action=UPDATED).get()
    assert entry.changes["size_class"] == [SizeClass.MEDIUM, SizeClass.MICRO]
    assert entry.changes["staff"] == [400, 5]


def test_size_class_is_recomputed_when_revenue_changes(personas, firm_b):
    enterprise_update(actor=personas["specialist"], enterprise=firm_b, data={"revenue": Decimal("1000")})
    firm_b.refresh_from_db()
    assert firm_b.size_class == SizeClass.SMALL  # 工业: ≥20 staff and ≥300 万元, below the medium 2000 万元


def test_size_class_is_recomputed_when_the_industry_changes(personas, firm_b):
    # 400 staff and 30000 万元 is medium in industry but large in software (≥300 staff, ≥10000 万元).
    enterprise_update(actor=personas["specialist"], enterprise=firm_b, data={"industry": "6511"})
    firm_b.refresh_from_db()
    assert firm_b.size_class == SizeClass.LARGE


def test_firm_user_changing_its_staff_recomputes_the_size_class(personas, firm_b):
    enterprise_update(actor=personas["firm_b"], enterprise=firm_b, data={"staff": 1000, "revenue": 40000})
    firm_b.refresh_from_db()
    assert firm_b.size_class == SizeClass.LARGE


# ---------------------------------------------------------------- audit trail


def test_create_records_who_and_every_set_field(personas):
    enterprise = enterprise_create(
        actor=personas["specialist"], data=_data(short_name="测试", contact_name="李四")
    )
    entry = AuditEntry.objects.get(action=CREATED, object_id=str(enterprise.pk))
    assert entry.actor == personas["specialist"]
    assert entry.actor_repr == "陈专员"
    assert entry.object_repr == "湖南测试新材料有限公司"
    assert entry.content_type.model_class() is Enterprise
    assert entry.changes["name"] == [None, "湖南测试新材料有限公司"]
    assert entry.changes["short_name"] == [None, "测试"]
    assert entry.changes["staff"] == [None, 120]
    assert entry.changes["industry"][0] is None and entry.changes["industry"][1].startswith("3311")
    assert "legal_representative" not in entry.changes  # left empty


def test_system_create_is_recorded_as_system(db, firm_a):
    entry = AuditEntry.objects.get(action=CREATED, object_id=str(firm_a.pk))
    assert entry.actor is None
    assert entry.actor_repr == "system"


def test_update_records_changed_fields_old_to_new(personas, firm_a):
    enterprise_update(
        actor=personas["specialist"],
        enterprise=firm_a,
        data={"staff": 4800, "short_name": "株硬", "established_on": dt.date(1954, 1, 1)},
    )
    entry = AuditEntry.objects.filter(action=UPDATED).get()
    assert entry.actor == personas["specialist"]
    assert entry.object_id == str(firm_a.pk)
    assert entry.changes == {"staff": [5000, 4800], "short_name": ["株硬集团", "株硬"]}


def test_update_records_tag_changes(personas, firm_a):
    tag = Tag.objects.create(name="高新技术企业")
    enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"tags": [tag]})
    entry = AuditEntry.objects.filter(action=UPDATED).get()
    assert entry.changes == {"tags": [[], ["高新技术企业"]]}


def test_update_that_changes_nothing_writes_no_entry(personas, firm_a):
    firm_a.refresh_from_db()
    before = AuditEntry.objects.count()
    enterprise_update(
        actor=personas["specialist"],
        enterprise=firm_a,
        data={"staff": 5000, "name": firm_a.name, "industry": "3240", "established_on": dt.date(1954, 1, 1)},
    )
    assert AuditEntry.objects.count() == before


def test_update_with_the_same_amount_in_another_form_writes_no_entry(personas, firm_a):
    # 500000 万元 stored as 500000.00: handing the service 500000 again is not a change.
    before = AuditEntry.objects.count()
    enterprise_update(
        actor=personas["specialist"],
        enterprise=firm_a,
        data={"revenue": 500000, "total_assets": Decimal("900000.0")},
    )
    assert AuditEntry.objects.count() == before


def test_audit_entry_commits_with_the_change(personas, firm_a):
    enterprise_update(actor=personas["specialist"], enterprise=firm_a, data={"address": "荷塘区钻石路288号"})
    firm_a.refresh_from_db()
    assert firm_a.address == "荷塘区钻石路288号"
    assert AuditEntry.objects.filter(action=UPDATED, object_id=str(firm_a.pk)).count() == 1


# ---------------------------------------------------------------- who may write


@pytest.mark.parametrize("key", ["admin", "investment", "project", "service_staff", "specialist"])
def test_registry_editors_may_create_and_change_every_field(personas, firm_a, key):
    created = enterprise_create(actor=personas[key], data=_data())
    assert created.pk
    enterprise_update(actor=personas[key], enterprise=firm_a, data={"name": "株洲硬质合金集团有限公司(更名)"})
    firm_a.refresh_from_db()
    assert firm_a.name.endswith("(更名)")


@pytest.mark.parametrize("key", ["leader", "window_clerk", "statistics", "firm_a", "firm_b", "bank", "city"])
def test_others_may_not_create(personas, key):
    before = _counts()
    with pytest.raises(PermissionDeniedError):
        enterprise_create(actor=personas[key], data=_data())
    assert _counts() == before


@pytest.mark.parametrize("key", ["leader", "window_clerk", "statistics", "firm_b", "bank", "city"])
def test_others_may_not_update_firm_a(personas, firm_a, key):
    before = _counts()
    with pytest.raises(PermissionDeniedError):
        enterprise_update(actor=personas[key], enterprise=firm_a, data={"staff": 1})
    assert _counts() == before
    firm_a.refresh_from_db()
    assert firm_a.staff == 5000


def test_firm_user_may_change_each_self_service_field_of_its_own_firm(personas, firm_a):
    values = {
        "short_name": "株硬",
        "address": "株洲市荷塘区钻石路288号",
        "business_scope": "硬质合金及其制品",
        "contact_name": "王五",
        "contact_phone": "0731-28888888",
        "contact_id_number": "11010519491231002X",
        "staff": 4900,
        "revenue": Decimal("480000"),
        "total_assets": Decimal("910000"),
    }
    assert set(values) == set(FIRM_EDITABLE_FIELDS)
    enterprise_update(actor=personas["firm_a"], enterprise=firm_a, data=values)
    firm_a.refresh_from_db()
    for name, value in values.items():
        assert getattr(firm_a, name) == value, name
    entry = AuditEntry.objects.filter(action=UPDATED).get()
    assert entry.actor == personas["firm_a"]
    assert set(entry.changes) == set(values)


@pytest.mark.parametrize("field", sorted(set(EDITABLE_FIELDS) - set(FIRM_EDITABLE_FIELDS)))
def test_firm_user_may_not_change_other_fields(personas, firm_a, field):
    values = {
        "uscc": make_uscc(77), "name": "改名", "legal_representative": "某人", "established_on": dt.date(2000, 1, 1),
        "registered_capital": 1, "industry": "3311", "chain": "rail", "zone": None, "tags": [], "status": "moved_out",
        "specialist": personas["specialist"],
    }
    before = _counts()
    with pytest.raises(PermissionDeniedError) as excinfo:
        enterprise_update(actor=personas["firm_a"], enterprise=firm_a, data={"staff": 4000, field: values[field]})
    assert str(Enterprise._meta.get_field(field).verbose_name) in str(excinfo.value.message)
    assert _counts() == before
    firm_a.refresh_from_db()
    assert firm_a.staff == 5000  # the allowed field in the same request is not applied either


def test_firm_user_may_not_change_another_firm(personas, firm_b):
    before = _counts()
    with pytest.raises(PermissionDeniedError):
        enterprise_update(actor=personas["firm_a"], enterprise=firm_b, data={"contact_name": "冒名"})
    assert _counts() == before
    firm_b.refresh_from_db()
    assert firm_b.contact_name == ""


def test_inactive_editor_may_not_write(personas, firm_a):
    specialist = personas["specialist"]
    specialist.is_active = False
    specialist.save()
    with pytest.raises(PermissionDeniedError):
        enterprise_create(actor=specialist, data=_data())
    with pytest.raises(PermissionDeniedError):
        enterprise_update(actor=specialist, enterprise=firm_a, data={"staff": 1})
