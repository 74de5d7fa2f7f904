from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitysimConfig(AppConfig):
    name = "zhiyuan.citysim"
    label = "citysim"
    verbose_name = _("City system simulator")
