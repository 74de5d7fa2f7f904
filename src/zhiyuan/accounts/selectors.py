"""Account reads: users and organisations visible to a user."""

from django.db.models import QuerySet

from zhiyuan.accounts.models import Organisation, Role, User
from zhiyuan.accounts.permissions import is_district_staff


def users_visible_to(user: User) -> QuerySet[User]:
    """District staff see every user; others see only the users of their own organisation."""
    if is_district_staff(user):
        return User.objects.select_related("organisation")
    if not (user and user.is_authenticated):
        return User.objects.none()
    return User.objects.filter(organisation_id=user.organisation_id).select_related("organisation")


def organisations_visible_to(user: User) -> QuerySet[Organisation]:
    """District staff see every organisation; others only their own."""
    if is_district_staff(user):
        return Organisation.objects.all()
    if not (user and user.is_authenticated):
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=user.organisation_id)


def specialists() -> QuerySet[User]:
    """Active service specialists, the people a firm can be assigned to."""
    return User.objects.filter(role=Role.SPECIALIST, is_active=True).order_by("last_name", "first_name")
