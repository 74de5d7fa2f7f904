"""Organisations, users and their roles (DESIGN.md §2)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    DISTRICT = "district", _("District department")
    ENTERPRISE = "enterprise", _("Enterprise")
    BANK = "bank", _("Bank")
    CITY = "city", _("City system")


class Role(models.TextChoices):
    ADMIN = "admin", _("System administrator")
    LEADER = "leader", _("District leader")
    INVESTMENT = "investment", _("Investment officer")
    PROJECT = "project", _("Project officer")
    SERVICE_STAFF = "service_staff", _("Service centre staff")
    SPECIALIST = "specialist", _("Service specialist")
    WINDOW_CLERK = "window_clerk", _("Window clerk")
    STATISTICS = "statistics", _("Statistics officer")
    ENTERPRISE = "enterprise", _("Enterprise user")
    BANK = "bank", _("Bank user")
    CITY = "city", _("City system")


DISTRICT_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.LEADER,
        Role.INVESTMENT,
        Role.PROJECT,
        Role.SERVICE_STAFF,
        Role.SPECIALIST,
        Role.WINDOW_CLERK,
        Role.STATISTICS,
    }
)

# Which organisation kind each role belongs to.
ROLE_ORGANISATION_KIND = {
    **dict.fromkeys(DISTRICT_ROLES, OrganisationKind.DISTRICT),
    Role.ENTERPRISE: OrganisationKind.ENTERPRISE,
    Role.BANK: OrganisationKind.BANK,
    Role.CITY: OrganisationKind.CITY,
}


class Organisation(models.Model):
    """A body users belong to: a district department, an enterprise, a bank, or the city system.

    An enterprise organisation points at its registry record, which is how a firm user is scoped to
    exactly one firm.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    enterprise = models.OneToOneField(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisation",
    )
    head = models.ForeignKey(
        "accounts.User",
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who overdue work of this organisation is escalated to first."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                name="enterprise_org_has_enterprise",
                condition=models.Q(kind="enterprise", enterprise__isnull=False)
                | (~models.Q(kind="enterprise") & models.Q(enterprise__isnull=True)),
            )
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person (or a machine client such as the city system) who signs in, with exactly one role."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="users"
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        # Chinese names are written family name first, without a space.
        return f"{self.last_name}{self.first_name}".strip()

    @property
    def is_district(self) -> bool:
        """District staff of any role."""
        return self.role in DISTRICT_ROLES

    @property
    def enterprise_id(self) -> int | None:
        """The firm an enterprise user acts for; None for every other role."""
        if self.role != Role.ENTERPRISE:
            return None
        return self.organisation.enterprise_id
