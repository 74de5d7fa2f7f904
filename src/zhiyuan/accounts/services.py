"""Account writes: organisations, users and API tokens."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from zhiyuan.accounts.models import ROLE_ORGANISATION_KIND, Organisation, OrganisationKind, Role, User
from zhiyuan.accounts.permissions import can_use_admin
from zhiyuan.core.errors import PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record


def organisation_get_or_create(*, actor, name: str, kind: str, enterprise=None) -> Organisation:
    """Return the organisation called `name`, creating it (audited) when it does not exist."""
    if actor is not None and not can_use_admin(actor):
        raise PermissionDeniedError()
    with transaction.atomic():
        organisation, created = Organisation.objects.get_or_create(
            name=name, defaults={"kind": kind, "enterprise": enterprise}
        )
        if created:
            audit_record(actor=actor, action="accounts.organisation.created", obj=organisation)
    return organisation


def user_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    organisation: Organisation,
    last_name: str = "",
    first_name: str = "",
    email: str = "",
    phone: str = "",
    validate: bool = True,
) -> User:
    """Create a user with one role in a matching organisation; only an administrator (or the system) may.

    `validate=False` skips the password-strength rules, for demo and test personas only.
    """
    if actor is not None and not can_use_admin(actor):
        raise PermissionDeniedError()
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), field="role")
    if ROLE_ORGANISATION_KIND[Role(role)] != organisation.kind:
        raise ValidationFailed(
            _("A %(role)s must belong to an organisation of kind %(kind)s.")
            % {"role": Role(role).label, "kind": OrganisationKind(ROLE_ORGANISATION_KIND[Role(role)]).label},
            field="organisation",
        )
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(_("This username is already taken."), field="username")
    user = User(
        username=username,
        role=role,
        organisation=organisation,
        last_name=last_name,
        first_name=first_name,
        email=email,
        phone=phone,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if validate:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationFailed(fields={"password": exc.messages}) from None
    user.set_password(password)
    with transaction.atomic():
        user.save()
        audit_record(actor=actor, action="accounts.user.created", obj=user, changes={"role": [None, role]})
    return user


def api_token_issue(*, actor, user: User) -> Token:
    """Issue (or replace) the API token a machine client such as the city system signs in with."""
    if actor is not None and not can_use_admin(actor):
        raise PermissionDeniedError()
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        audit_record(actor=actor, action="accounts.token.issued", obj=user)
    return token


def organisation_set_head(*, actor, organisation: Organisation, head: User | None) -> Organisation:
    """Name who overdue work of the organisation is escalated to first; only an administrator may."""
    if actor is not None and not can_use_admin(actor):
        raise PermissionDeniedError()
    if head is not None and head.organisation_id != organisation.pk:
        raise ValidationFailed(_("The head must be a member of the organisation."), field="head")
    with transaction.atomic():
        old = organisation.head
        organisation.head = head
        organisation.save(update_fields=["head"])
        audit_record(
            actor=actor,
            action="accounts.organisation.updated",
            obj=organisation,
            changes={"head": [str(old) if old else None, str(head) if head else None]},
        )
    return organisation
