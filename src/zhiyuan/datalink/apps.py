from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatalinkConfig(AppConfig):
    name = "zhiyuan.datalink"
    label = "datalink"
    verbose_name = _("Data link with the city")
