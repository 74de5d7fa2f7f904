from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "zhiyuan.approvals"
    label = "approvals"
    verbose_name = _("One-window approvals")

    def ready(self) -> None:
        # Registers the handlers for the city's replies and status callbacks with the data link.
        from zhiyuan.approvals import services  # noqa: F401
