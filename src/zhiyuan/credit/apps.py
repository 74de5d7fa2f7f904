from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "zhiyuan.credit"
    label = "credit"
    verbose_name = _("SME credit")
