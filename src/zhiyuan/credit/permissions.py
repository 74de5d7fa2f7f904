"""Who may do what with credit data. Services ask these; views and the API render the answer."""

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.permissions import is_authenticated, is_district_staff

# District roles that load feeds, run models and answer objections (the enterprise service centre
# runs the financing service; the admin maintains models).
CREDIT_MANAGERS = frozenset({Role.ADMIN, Role.SERVICE_STAFF})


def can_manage_credit(user) -> bool:
    return is_authenticated(user) and user.role in CREDIT_MANAGERS


def can_read_all_reports(user) -> bool:
    """District staff read every firm's report (no consent needed: the district holds the data)."""
    return is_district_staff(user)


def is_bank_user(user) -> bool:
    return is_authenticated(user) and user.role == Role.BANK and user.organisation_id is not None


def is_firm_user(user) -> bool:
    return is_authenticated(user) and user.enterprise_id is not None
