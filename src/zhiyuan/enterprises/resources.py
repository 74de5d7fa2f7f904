"""The registry's spreadsheet layout: a django-import-export Resource for Enterprise.

The Resource is the one definition of the sheet: which columns exist, their headers (the model
fields' verbose names through gettext, so users see Chinese headers), how each cell is turned into
a value on import (the widgets below) and how each value is written on export. Relations are
written by name: the industry by its GB/T 4754-2017 code, the park zone and tags by name, the
specialist by username or name, the chain and status by their label (or stored value).

Importing goes through `zhiyuan.enterprises.imports.enterprise_import`, which uses this Resource's
columns and widgets but validates and writes every row in bulk (see that module's docstring for
why the per-row `Resource.import_data` machinery is not used).
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Choices, QuerySet
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats.base_formats import XLSX
from stdnum.cn import uscc as uscc_module

from zhiyuan.accounts.models import Role, User
from zhiyuan.enterprises.models import Chain, Enterprise, Industry, ParkZone, Status, Tag
from zhiyuan.enterprises.selectors import mask_id_number, mask_phone

# The columns an import reads, in sheet order (every field staff may set on a firm).
IMPORT_FIELDS = [
    "uscc", "name", "short_name", "legal_representative", "established_on", "registered_capital",
    "industry", "staff", "revenue", "total_assets", "chain", "zone", "tags", "status", "specialist",
    "address", "business_scope", "contact_name", "contact_phone", "contact_id_number",
]
# Columns an export adds for readers; an import accepts and ignores them, so an export re-imports.
EXPORT_ONLY_FIELDS = ["industry_name", "size_class"]
EXPORT_ORDER = [
    "uscc", "name", "short_name", "legal_representative", "established_on", "registered_capital",
    "industry", "industry_name", "staff", "revenue", "total_assets", "size_class", "chain", "zone", "tags",
    "status", "specialist", "address", "business_scope", "contact_name", "contact_phone", "contact_id_number",
]
TAG_SEPARATORS = re.compile(r"[、,，;；|/\n]+")
AMOUNT_LIMIT = Decimal(10) ** 12  # DecimalField(max_digits=14, decimal_places=2)
CENT = Decimal("0.01")
STAFF_LIMIT = 2_147_483_647
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")
ALLOWED_LIST_LIMIT = 30


def column_label(name: str):
    """The header of a column: the field's verbose name (lazy, translated when rendered)."""
    if name == "industry":
        return gettext_lazy("Industry code")
    if name == "industry_name":
        return gettext_lazy("Industry name")
    return capfirst(Enterprise._meta.get_field(name).verbose_name)


def normalize_header(text: Any) -> str:
    """How headers are compared: case, spaces and full-width brackets do not matter."""
    value = str(text or "").strip().casefold()
    value = value.replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", value)


def _norm(text: Any) -> str:
    return re.sub(r"\s+", " ", str(text).strip()).casefold()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def allowed_values(names: list[str]) -> str:
    """A list of allowed values for an error message, shortened when long."""
    if not names:
        return _("(none defined yet)")
    shown = "、".join(names[:ALLOWED_LIST_LIMIT])
    if len(names) > ALLOWED_LIST_LIMIT:
        shown += _(" … and %(count)d more") % {"count": len(names) - ALLOWED_LIST_LIMIT}
    return shown


class CellError(ValueError):
    """A cell's value cannot be used; the translated message says why (the caller adds row and column)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass
class Lookups:
    """The reference data an import resolves names against, read once per import (no per-row queries)."""

    industries: dict[str, Industry] = field(default_factory=dict)
    zones: dict[str, ParkZone] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    specialists_by_username: dict[str, User] = field(default_factory=dict)
    specialists_by_name: dict[str, list[User]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Lookups":
        """Read industries (大类 and finer), zones, tags and active specialists."""
        lookups = cls(
            industries={i.code: i for i in Industry.objects.filter(level__gte=2)},
            zones={_norm(z.name): z for z in ParkZone.objects.all()},
            tags={_norm(t.name): t for t in Tag.objects.all()},
        )
        for user in User.objects.filter(role=Role.SPECIALIST, is_active=True).order_by("username"):
            lookups.specialists_by_username[user.username.casefold()] = user
            full_name = user.get_full_name()
            if full_name:
                lookups.specialists_by_name.setdefault(_norm(full_name), []).append(user)
        return lookups


class TextWidget(widgets.CharWidget):
    """Free text; numbers typed into a text column (phone numbers, codes) are read as their digits."""

    def __init__(self, max_length: int):
        super().__init__(coerce_to_string=True, allow_blank=True)
        self.max_length = max_length

    def clean(self, value, row=None, **kwargs) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            text = value.strip()
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))
        elif isinstance(value, dt.datetime):
            text = value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
        elif isinstance(value, dt.date):
            text = value.isoformat()
        else:
            text = str(value)
        if len(text) > self.max_length:
            raise CellError(
                _("At most %(limit)d characters are allowed (this has %(count)d).")
                % {"limit": self.max_length, "count": len(text)}
            )
        return text

    def render(self, value, obj=None, **kwargs):
        return value or ""


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number such as the staff count; empty means unknown."""

    def clean(self, value, row=None, **kwargs) -> int | None:
        if _blank(value):
            return None
        if isinstance(value, bool):
            raise CellError(_("Enter a whole number."))
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            text = str(value).strip().replace(",", "").replace(" ", "")
            try:
                decimal = Decimal(text)
            except InvalidOperation:
                raise CellError(_("Enter a whole number.")) from None
            if not decimal.is_finite() or decimal != decimal.to_integral_value():
                raise CellError(_("Enter a whole number."))
            number = int(decimal)
        if number > STAFF_LIMIT:
            raise CellError(_("The number is too large."))
        return number

    def render(self, value, obj=None, **kwargs):
        return value


class AmountWidget(widgets.DecimalWidget):
    """An amount in 10k yuan (万元), rounded to two decimal places; empty means unknown."""

    def clean(self, value, row=None, **kwargs) -> Decimal | None:
        if _blank(value):
            return None
        if isinstance(value, bool):
            raise CellError(_("Enter a number."))
        if isinstance(value, (int, Decimal)):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        else:
            try:
                number = Decimal(str(value).strip().replace(",", "").replace(" ", ""))
            except InvalidOperation:
                raise CellError(_("Enter a number.")) from None
        if not number.is_finite():
            raise CellError(_("Enter a number."))
        number = number.quantize(CENT, rounding=ROUND_HALF_UP)
        if abs(number) >= AMOUNT_LIMIT:
            raise CellError(_("The number is too large: at most 12 digits before the decimal point."))
        return number

    def render(self, value, obj=None, **kwargs):
        return float(value) if value is not None else None


class DateCellWidget(widgets.DateWidget):
    """A date cell, or text such as 2019-03-15, 2019/3/15 or 2019年3月15日."""

    def clean(self, value, row=None, **kwargs) -> dt.date | None:
        if _blank(value):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            text = value.strip()
            for fmt in DATE_FORMATS:
                try:
                    return dt.datetime.strptime(text, fmt).date()
                except ValueError:
                    continue
        raise CellError(_("Enter a valid date, for example 2019-03-15."))

    def render(self, value, obj=None, **kwargs):
        return value


class ChoiceWidget(widgets.Widget):
    """One of a model's choices, written as its label (in any language the site offers) or its value."""

    def __init__(self, choices: type[Choices], default: str):
        super().__init__()
        self.choices = choices
        self.default = default
        self._map: dict[str, str] | None = None

    def _mapping(self) -> dict[str, str]:
        if self._map is None:
            mapping = {}
            for code, _name in settings.LANGUAGES:
                with translation.override(code):
                    mapping.update({_norm(label): value for value, label in self.choices.choices})
            mapping.update({_norm(value): value for value in self.choices.values})
            self._map = mapping
        return self._map

    def clean(self, value, row=None, **kwargs) -> str:
        if _blank(value):
            return self.default
        found = self._mapping().get(_norm(value))
        if found is None:
            raise CellError(
                _("Unknown value “%(value)s”: use one of %(allowed)s.")
                % {"value": value, "allowed": allowed_values([str(label) for label in self.choices.labels])}
            )
        return found

    def render(self, value, obj=None, **kwargs):
        return str(self.choices(value).label) if value else ""


class LookupWidget(widgets.Widget):
    """A widget that resolves names against the import's Lookups (bound once per import)."""

    lookups: Lookups | None = None

    def bind(self, lookups: Lookups) -> None:
        self.lookups = lookups

    def _tables(self) -> Lookups:
        if self.lookups is None:
            self.lookups = Lookups.load()
        return self.lookups


class IndustryCodeWidget(LookupWidget):
    """The industry as its GB/T 4754-2017 code (大类, 中类 or 小类).

    A known code gives the Industry; an unknown one is passed on as text so that the registry's
    validation (`services.validate_enterprise_data`) reports it with its standard message.
    """

    def clean(self, value, row=None, **kwargs) -> Industry | str | None:
        if _blank(value):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        code = str(value).strip().upper()
        if isinstance(value, int) and len(code) == 1:
            code = "0" + code  # a spreadsheet turns 大类 "01" into the number 1
        return self._tables().industries.get(code, code)

    def render(self, value, obj=None, **kwargs):
        return value.code if value is not None else ""


class ZoneWidget(LookupWidget):
    """The park zone by name; zones are maintained by the administrator, so an unknown name is an error."""

    def clean(self, value, row=None, **kwargs) -> ParkZone | None:
        if _blank(value):
            return None
        zones = self._tables().zones
        zone = zones.get(_norm(value))
        if zone is None:
            raise CellError(
                _("Unknown park zone “%(value)s”: use one of %(allowed)s.")
                % {"value": str(value).strip(), "allowed": allowed_values(sorted(z.name for z in zones.values()))}
            )
        return zone

    def render(self, value, obj=None, **kwargs):
        return value.name if value is not None else ""


class TagsWidget(LookupWidget):
    """Tags by name, separated by 、 , ; or new lines; an unknown tag is an error."""

    def clean(self, value, row=None, **kwargs) -> list[Tag]:
        if _blank(value):
            return []
        tags = self._tables().tags
        found, unknown = {}, []
        for part in TAG_SEPARATORS.split(str(value)):
            if not part.strip():
                continue
            tag = tags.get(_norm(part))
            if tag is None:
                unknown.append(part.strip())
            else:
                found[tag.pk] = tag
        if unknown:
            raise CellError(
                _("Unknown tags “%(value)s”: use any of %(allowed)s.")
                % {"value": "、".join(unknown), "allowed": allowed_values(sorted(t.name for t in tags.values()))}
            )
        return sorted(found.values(), key=lambda t: t.name)

    def render(self, value, obj=None, **kwargs):
        return "、".join(sorted(t.name for t in value.all())) if value is not None else ""


_NAME_WITH_USERNAME = re.compile(r"^(?P<name>.*?)\s*[(（]\s*(?P<username>[^()（）\s]+)\s*[)）]$")


class SpecialistWidget(LookupWidget):
    """The service specialist by username, by full name, or as "full name (username)" (how exports write it)."""

    def clean(self, value, row=None, **kwargs) -> User | None:
        if _blank(value):
            return None
        tables = self._tables()
        text = str(value).strip()
        match = _NAME_WITH_USERNAME.match(text)
        username = match.group("username") if match else text
        user = tables.specialists_by_username.get(username.casefold())
        if user is not None:
            return user
        same_name = tables.specialists_by_name.get(_norm(text), [])
        if len(same_name) == 1:
            return same_name[0]
        if len(same_name) > 1:
            raise CellError(
                _("Several specialists are called “%(value)s”: enter the username instead.") % {"value": text}
            )
        raise CellError(
            _("Unknown service specialist “%(value)s”: use one of %(allowed)s.")
            % {
                "value": text,
                "allowed": allowed_values([_specialist_label(u) for u in tables.specialists_by_username.values()]),
            }
        )

    def render(self, value, obj=None, **kwargs):
        return _specialist_label(value) if value is not None else ""


def _specialist_label(user: User) -> str:
    full_name = user.get_full_name()
    return f"{full_name} ({user.username})" if full_name else user.username


def _text(name: str) -> TextWidget:
    return TextWidget(max_length=Enterprise._meta.get_field(name).max_length)


class EnterpriseResource(resources.ModelResource):
    """The registry sheet: one row per firm, keyed on the USCC.

    `mask_personal_data=True` writes phone and ID numbers masked (138****1234) on export, for
    roles that do not see them in clear.
    """

    # Room for spaces and dashes, which the USCC check ignores; its length is checked there.
    uscc = fields.Field("uscc", column_label("uscc"), TextWidget(max_length=40))
    name = fields.Field("name", column_label("name"), _text("name"))
    short_name = fields.Field("short_name", column_label("short_name"), _text("short_name"))
    legal_representative = fields.Field(
        "legal_representative", column_label("legal_representative"), _text("legal_representative")
    )
    established_on = fields.Field("established_on", column_label("established_on"), DateCellWidget())
    registered_capital = fields.Field("registered_capital", column_label("registered_capital"), AmountWidget())
    industry = fields.Field("industry", column_label("industry"), IndustryCodeWidget())
    industry_name = fields.Field("industry__name", column_label("industry_name"), readonly=True)
    staff = fields.Field("staff", column_label("staff"), WholeNumberWidget())
    revenue = fields.Field("revenue", column_label("revenue"), AmountWidget())
    total_assets = fields.Field("total_assets", column_label("total_assets"), AmountWidget())
    size_class = fields.Field("size_class", column_label("size_class"), readonly=True)
    chain = fields.Field("chain", column_label("chain"), ChoiceWidget(Chain, Chain.OTHER))
    zone = fields.Field("zone", column_label("zone"), ZoneWidget())
    tags = fields.Field("tags", column_label("tags"), TagsWidget())
    status = fields.Field("status", column_label("status"), ChoiceWidget(Status, Status.OPERATING))
    specialist = fields.Field("specialist", column_label("specialist"), SpecialistWidget())
    address = fields.Field("address", column_label("address"), _text("address"))
    business_scope = fields.Field("business_scope", column_label("business_scope"), TextWidget(max_length=10000))
    contact_name = fields.Field("contact_name", column_label("contact_name"), _text("contact_name"))
    contact_phone = fields.Field("contact_phone", column_label("contact_phone"), _text("contact_phone"))
    contact_id_number = fields.Field(
        "contact_id_number", column_label("contact_id_number"), _text("contact_id_number")
    )

    class Meta:
        model = Enterprise
        fields = EXPORT_ORDER
        export_order = EXPORT_ORDER
        import_id_fields = ["uscc"]

    def __init__(self, *, mask_personal_data: bool = False, lookups: Lookups | None = None, **kwargs):
        super().__init__(**kwargs)
        self.mask_personal_data = mask_personal_data
        if lookups is not None:
            self.bind(lookups)

    def bind(self, lookups: Lookups) -> None:
        """Give the relation widgets the reference data of one import."""
        for field_ in self.fields.values():
            if isinstance(field_.widget, LookupWidget):
                field_.widget.bind(lookups)

    def import_data(self, *args, **kwargs):
        """Refused: the registry is imported only by `imports.enterprise_import`, which validates every
        row with the registry's rules, writes all-or-nothing and records the audit trail."""
        raise TypeError("Import enterprises with zhiyuan.enterprises.imports.enterprise_import().")

    # -- headers ---------------------------------------------------------------------------------

    def import_widgets(self) -> dict[str, widgets.Widget]:
        """{field name: widget} for the columns an import reads."""
        return {name: self.fields[name].widget for name in IMPORT_FIELDS}

    @staticmethod
    def import_headers() -> list[str]:
        """The headers an import expects, in the active language."""
        return [str(column_label(name)) for name in IMPORT_FIELDS]

    @staticmethod
    def header_aliases() -> dict[str, str]:
        """{normalized header: field name} for every language the site offers (a sheet made by a
        colleague who works in English imports for one who works in Chinese), plus the field names."""
        aliases: dict[str, str] = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                for name in IMPORT_FIELDS + EXPORT_ONLY_FIELDS:
                    aliases[normalize_header(column_label(name))] = name
        for name in IMPORT_FIELDS:
            aliases.setdefault(normalize_header(name), name)
        return aliases

    # -- export ----------------------------------------------------------------------------------

    def dehydrate_industry_name(self, enterprise: Enterprise) -> str:
        return enterprise.industry.name if enterprise.industry_id else ""

    def dehydrate_size_class(self, enterprise: Enterprise) -> str:
        return str(enterprise.get_size_class_display())

    def dehydrate_tags(self, enterprise: Enterprise) -> str:
        return "、".join(sorted(t.name for t in enterprise.tags.all()))

    def dehydrate_contact_phone(self, enterprise: Enterprise) -> str:
        phone = enterprise.contact_phone
        return mask_phone(phone) if self.mask_personal_data else phone

    def dehydrate_contact_id_number(self, enterprise: Enterprise) -> str:
        number = enterprise.contact_id_number
        return mask_id_number(number) if self.mask_personal_data else number


def export_workbook(queryset: QuerySet[Enterprise], *, mask_personal_data: bool) -> bytes:
    """The firms of `queryset` as an .xlsx workbook (the caller has already scoped the queryset)."""
    resource = EnterpriseResource(mask_personal_data=mask_personal_data)
    queryset = queryset.select_related("industry", "zone", "specialist").prefetch_related("tags")
    return XLSX().export_data(resource.export(queryset=queryset))


def template_workbook() -> bytes:
    """An empty import sheet with the expected headers and one example row."""
    import tablib

    body = "91430202MA4L00001"
    example_uscc = body + uscc_module.calc_check_digit(body)
    zone = ParkZone.objects.order_by("name").first()
    tags = list(Tag.objects.order_by("name")[:2])
    specialist = User.objects.filter(role=Role.SPECIALIST, is_active=True).order_by("username").first()
    example = {
        "uscc": example_uscc,
        "name": _("Example New Materials Co., Ltd."),
        "short_name": _("Example Materials"),
        "legal_representative": _("Zhang San"),
        "established_on": dt.date(2015, 6, 1),
        "registered_capital": 1000,
        "industry": "3311",
        "staff": 120,
        "revenue": 8500,
        "total_assets": 12000,
        "chain": str(Chain.NEW_MATERIALS.label),
        "zone": zone.name if zone else "",
        "tags": "、".join(t.name for t in tags),
        "status": str(Status.OPERATING.label),
        "specialist": specialist.username if specialist else "",
        "address": _("1 Example Road, Hetang District, Zhuzhou"),
        "business_scope": _("Manufacture and sale of metal structures"),
        "contact_name": _("Li Si"),
        "contact_phone": "13800000000",
        "contact_id_number": "",
    }
    dataset = tablib.Dataset(headers=EnterpriseResource.import_headers())
    dataset.append([example[name] for name in IMPORT_FIELDS])
    return XLSX().export_data(dataset)
