"""The registry list table (django-tables2), with personal data masked per viewer."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from zhiyuan.enterprises.models import Enterprise
from zhiyuan.enterprises.selectors import mask_phone


class EnterpriseTable(tables.Table):
    name = tables.LinkColumn("enterprises:detail", args=[tables.A("pk")], verbose_name=_("Name"))
    uscc = tables.Column(verbose_name=_("Unified social credit code"))
    industry = tables.Column(verbose_name=_("Industry"), order_by=("industry__code",))
    size_class = tables.Column(verbose_name=_("Size class"))
    chain = tables.Column(verbose_name=_("Leading chain"))
    zone = tables.Column(verbose_name=_("Park zone"), order_by=("zone__name",))
    specialist = tables.Column(verbose_name=_("Service specialist"), order_by=("specialist__last_name",))
    contact_phone = tables.Column(verbose_name=_("Contact phone"), orderable=False)
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Enterprise
        fields = ["name", "uscc", "industry", "size_class", "chain", "zone", "specialist", "contact_phone", "status"]
        attrs = {"class": "table table-sm table-hover align-middle"}
        per_page = 25
        empty_text = _("No enterprises match.")

    def __init__(self, *args, mask_personal_data: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.mask_personal_data = mask_personal_data

    def render_industry(self, record):
        return f"{record.industry.code} {record.industry.name}"

    def render_contact_phone(self, value):
        return mask_phone(value) if self.mask_personal_data else value
