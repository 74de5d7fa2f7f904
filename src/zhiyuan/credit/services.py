"""Writes on credit data that people make: consent (授权) and the bank reads it gates, objections
(异议), loan products and the banks' offers on published financing needs.

Feeds are loaded by `feeds.py`; models are trained and run by `scoring.py`; adverse records are
purged by `retention.py`.

Consent is the only door for a bank: `report_access_for_bank` checks for a live consent (not revoked,
today within its period, for the bank's organisation and, when the bank names one, the purpose),
logs the request whether it is granted or refused — the firm sees that log — and otherwise answers
as if the firm did not exist (NotFoundError), so a bank learns nothing about unconsented firms.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Organisation, OrganisationKind, Role, User
from zhiyuan.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record, notify, snapshot
from zhiyuan.core.workdays import CalendarNotCovered, workdays_add
from zhiyuan.credit.models import (
    Consent,
    Feed,
    FinancingOffer,
    Grade,
    LoanProduct,
    Objection,
    ObjectionStatus,
    OfferStatus,
    Purpose,
    ReportAccess,
)
from zhiyuan.credit.permissions import can_manage_credit, is_bank_user, is_firm_user
from zhiyuan.enterprises.models import Enterprise, Industry
from zhiyuan.servicedesk.models import ServiceRequest

# -- helpers ---------------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _firm_of(actor: User) -> Enterprise:
    if not is_firm_user(actor):
        raise PermissionDeniedError(_("Only the firm's own users may do this."))
    return actor.organisation.enterprise


def _bank_of(actor: User) -> Organisation:
    if not is_bank_user(actor):
        raise PermissionDeniedError(_("Only bank users may do this."))
    return actor.organisation


def _users_of_firm(enterprise: Enterprise):
    return User.objects.filter(organisation__enterprise=enterprise, is_active=True)


def _users_of_org(organisation: Organisation):
    return User.objects.filter(organisation=organisation, is_active=True)


def _credit_managers():
    return User.objects.filter(role__in=[Role.ADMIN, Role.SERVICE_STAFF], is_active=True)


def _decimal(value: Any, field: str, *, positive: bool = True, allow_zero: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(_("Enter a number."), field=field) from None
    if not number.is_finite():
        raise ValidationFailed(_("Enter a number."), field=field)
    if positive and (number < 0 or (number == 0 and not allow_zero)):
        raise ValidationFailed(_("Enter a number greater than zero."), field=field)
    return number


def _whole(value: Any, field: str, *, minimum: int = 1, maximum: int = 600) -> int:
    try:
        number = int(str(value).strip())
    except (ValueError, TypeError):
        raise ValidationFailed(_("Enter a whole number."), field=field) from None
    if not minimum <= number <= maximum:
        raise ValidationFailed(
            _("Enter a whole number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}, field=field
        )
    return number


def _date(value: Any, field: str, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(_("This field is required."), field=field)
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), field=field) from None


# -- consent -------------------------------------------------------------------------------------


def consent_is_live(consent: Consent, today: dt.date | None = None) -> bool:
    """A consent opens the report while it is not revoked and today is within its period."""
    today = today or _today()
    return consent.revoked_at is None and consent.valid_from <= today <= consent.valid_until


def consent_grant(
    *, actor: User, bank: Organisation | int | None, purpose: str, valid_until: Any, valid_from: Any = None
) -> Consent:
    """The firm authorises one bank to read its credit report for one purpose until `valid_until`."""
    enterprise = _firm_of(actor)
    errors: dict[str, list[str]] = {}
    organisation = None
    if bank in (None, ""):
        errors["bank"] = [_("Choose a bank.")]
    else:
        bank_id = bank.pk if isinstance(bank, Organisation) else bank
        organisation = Organisation.objects.filter(pk=bank_id).first() if str(bank_id).isdigit() else None
        if organisation is None or organisation.kind != OrganisationKind.BANK:
            errors["bank"] = [_("Consent can only be given to a bank registered on the platform.")]
    if purpose not in Purpose.values:
        errors["purpose"] = [_("Choose a purpose from the list.")]
    today = _today()
    try:
        start = _date(valid_from, "valid_from", required=False) or today
        if start < today:
            errors["valid_from"] = [_("A consent cannot start in the past.")]
    except ValidationFailed as error:
        errors.update(error.fields)
        start = today
    try:
        end = _date(valid_until, "valid_until")
    except ValidationFailed as error:
        errors.update(error.fields or {"valid_until": [error.message]})
        end = None
    if end is not None:
        if end < start:
            errors["valid_until"] = [_("The end date is before the start date.")]
        elif (end - start).days > settings.ZHIYUAN_CREDIT_CONSENT_MAX_DAYS:
            errors["valid_until"] = [
                _("A consent may last at most %(days)s days.") % {"days": settings.ZHIYUAN_CREDIT_CONSENT_MAX_DAYS}
            ]
    if errors:
        raise ValidationFailed(_("The consent was not given: correct the fields marked."), fields=errors)
    with transaction.atomic():
        consent = Consent.objects.create(
            enterprise=enterprise,
            bank=organisation,
            purpose=purpose,
            valid_from=start,
            valid_until=end,
            granted_by=actor,
        )
        audit_record(
            actor=actor,
            action="credit.consent.granted",
            obj=consent,
            changes={"bank": [None, organisation.name], "purpose": [None, purpose], "valid_until": [None, str(end)]},
        )
        notify(
            recipients=_users_of_org(organisation),
            title=_("%(firm)s authorised you to read its credit report") % {"firm": enterprise.name},
            body=_("Purpose: %(purpose)s. Valid %(start)s to %(end)s.")
            % {"purpose": consent.get_purpose_display(), "start": start, "end": end},
            link=f"/credit/reports/{enterprise.uscc}/",
        )
    return consent


def consent_revoke(*, actor: User, consent: Consent) -> Consent:
    """The firm withdraws a consent; the bank's next request is refused."""
    enterprise = _firm_of(actor)
    if consent.enterprise_id != enterprise.pk:
        raise NotFoundError()
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.revoked_at is not None:
            raise ConflictError(_("This consent was already revoked."))
        consent.revoked_at = timezone.now()
        consent.revoked_by = actor
        consent.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=actor, action="credit.consent.revoked", obj=consent, changes={"revoked": [None, True]})
        notify(
            recipients=_users_of_org(consent.bank),
            title=_("%(firm)s revoked your access to its credit report") % {"firm": enterprise.name},
            link="/credit/bank/",
        )
    return consent


def report_access_for_bank(
    *, actor: User, uscc: str, purpose: str = "", channel: str = "web"
) -> tuple[Enterprise, Consent]:
    """Check that the bank may read this firm's report now, and log the request either way.

    Returns the firm and the consent that opens it; raises NotFoundError (logged as refused) when
    there is no live consent — the same answer as for a firm that does not exist."""
    bank = _bank_of(actor)
    if purpose and purpose not in Purpose.values:
        raise ValidationFailed(_("Unknown purpose."), field="purpose")
    enterprise = Enterprise.objects.filter(uscc=str(uscc).strip().upper()).first()
    if enterprise is None:
        raise NotFoundError()
    today = _today()
    consents = Consent.objects.filter(
        enterprise=enterprise, bank=bank, revoked_at__isnull=True, valid_from__lte=today, valid_until__gte=today
    )
    if purpose:
        consents = consents.filter(purpose=purpose)
    consent = consents.order_by("-valid_until").first()
    # Written in autocommit, before the refusal is raised, so it is kept: callers (the page and the API
    # view) must not wrap this call in a transaction, or a refusal's row would be rolled back with it.
    ReportAccess.objects.create(
        enterprise=enterprise,
        bank=bank,
        user=actor,
        purpose=consent.purpose if consent else purpose,
        consent=consent,
        granted=consent is not None,
        channel=channel[:10],
    )
    if consent is None:
        raise NotFoundError()
    return enterprise, consent


# -- objections ----------------------------------------------------------------------------------


def _objection_due(today: dt.date) -> dt.date | None:
    try:
        return workdays_add(today, settings.ZHIYUAN_CREDIT_OBJECTION_WORKDAYS)
    except CalendarNotCovered:
        return None


def objection_raise(*, actor: User, feed: str, record_id: int, reason: str) -> Objection:
    """The firm disputes one of its feed records; staff must answer within the configured working days.
    While open, the record is flagged in every report."""
    from zhiyuan.credit.selectors import feed_record_get

    enterprise = _firm_of(actor)
    if feed not in Feed.values:
        raise ValidationFailed(_("Unknown data source."), field="feed")
    record = feed_record_get(feed, record_id)
    if record is None or record.enterprise_id != enterprise.pk:
        raise NotFoundError()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say what is wrong with the record."), field="reason")
    today = _today()
    try:
        with transaction.atomic():
            objection = Objection.objects.create(
                enterprise=enterprise,
                feed=feed,
                record_id=record.pk,
                record_label=f"{Feed(feed).label}: {record}"[:300],
                reason=reason,
                raised_by=actor,
                due_on=_objection_due(today),
            )
            audit_record(
                actor=actor, action="credit.objection.raised", obj=objection, changes={"reason": [None, reason]}
            )
            notify(
                recipients=_credit_managers(),
                title=_("Objection to a credit record from %(firm)s") % {"firm": enterprise.name},
                body=objection.record_label,
                link=f"/credit/objections/{objection.pk}/",
            )
    except IntegrityError:
        raise ConflictError(_("There is already an open objection to this record.")) from None
    return objection


def objection_answer(*, actor: User, objection: Objection, upheld: bool, answer: str) -> Objection:
    """Staff answer an objection. Upheld: the record is removed (corrected data can be loaded again);
    rejected: the record stands. Either way the flag is lifted and the firm is told."""
    from zhiyuan.credit.selectors import feed_record_get

    if not can_manage_credit(actor):
        raise PermissionDeniedError(_("Only the credit administrators may answer objections."))
    answer = (answer or "").strip()
    if not answer:
        raise ValidationFailed(_("Write the answer the firm will read."), field="answer")
    with transaction.atomic():
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if objection.status != ObjectionStatus.OPEN:
            raise ConflictError(_("This objection has already been closed."))
        if upheld:
            record = feed_record_get(objection.feed, objection.record_id)
            if record is not None:
                fields = [field.name for field in record._meta.concrete_fields if field.name not in ("id",)]
                audit_record(
                    actor=actor,
                    action="credit.record.removed",
                    obj=record,
                    changes={name: [value, None] for name, value in snapshot(record, fields).items()},
                )
                record.delete()
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED
        objection.answer = answer
        objection.answered_by = actor
        objection.answered_at = timezone.now()
        objection.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        audit_record(
            actor=actor,
            action="credit.objection.answered",
            obj=objection,
            changes={"status": ["open", objection.status]},
        )
        notify(
            recipients=_users_of_firm(objection.enterprise),
            title=_("Your objection was answered: %(status)s") % {"status": objection.get_status_display()},
            body=answer,
            link="/credit/my/",
        )
    return objection


def objection_withdraw(*, actor: User, objection: Objection) -> Objection:
    """The firm withdraws its own open objection."""
    enterprise = _firm_of(actor)
    if objection.enterprise_id != enterprise.pk:
        raise NotFoundError()
    with transaction.atomic():
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if objection.status != ObjectionStatus.OPEN:
            raise ConflictError(_("This objection has already been closed."))
        objection.status = ObjectionStatus.WITHDRAWN
        objection.answered_at = timezone.now()
        objection.save(update_fields=["status", "answered_at"])
        audit_record(
            actor=actor, action="credit.objection.withdrawn", obj=objection, changes={"status": ["open", "withdrawn"]}
        )
    return objection


def objections_overdue_notify(*, today: dt.date | None = None) -> int:
    """Daily: fill in answer deadlines the calendar could not compute before, and tell the credit
    administrators (once per objection) about open objections past their deadline. Returns how many
    notices were sent."""
    today = today or _today()
    sent = 0
    for objection in Objection.objects.filter(status=ObjectionStatus.OPEN, due_on__isnull=True):
        due = _objection_due(timezone.localdate(objection.raised_at))
        if due is not None:
            Objection.objects.filter(pk=objection.pk).update(due_on=due)
    overdue = Objection.objects.filter(status=ObjectionStatus.OPEN, due_on__lt=today, reminded=False).select_related(
        "enterprise"
    )
    for objection in overdue:
        with transaction.atomic():
            sent += notify(
                recipients=_credit_managers(),
                title=_("Objection overdue: %(firm)s, due %(due)s")
                % {"firm": objection.enterprise.name, "due": objection.due_on},
                body=objection.record_label,
                link=f"/credit/objections/{objection.pk}/",
                key=f"credit-objection-overdue-{objection.pk}",
            )
            Objection.objects.filter(pk=objection.pk).update(reminded=True)
    return sent


# -- loan products -------------------------------------------------------------------------------

PRODUCT_FIELDS = [
    "name",
    "description",
    "amount_min",
    "amount_max",
    "term_min_months",
    "term_max_months",
    "rate_min",
    "rate_max",
    "min_grade",
    "industry_sections",
    "collateral_required",
    "is_active",
]


def _clean_product(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def attempt(field: str, parse) -> None:
        try:
            cleaned[field] = parse()
        except ValidationFailed as error:
            errors[field] = [error.message]

    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Give the product a name.")]
    cleaned["name"] = name[:100]
    cleaned["description"] = str(data.get("description") or "").strip()
    attempt("amount_min", lambda: _decimal(data.get("amount_min"), "amount_min"))
    attempt("amount_max", lambda: _decimal(data.get("amount_max"), "amount_max"))
    attempt("term_min_months", lambda: _whole(data.get("term_min_months"), "term_min_months"))
    attempt("term_max_months", lambda: _whole(data.get("term_max_months"), "term_max_months"))
    attempt("rate_min", lambda: _decimal(data.get("rate_min"), "rate_min"))
    attempt("rate_max", lambda: _decimal(data.get("rate_max"), "rate_max"))
    for low, high in (("amount_min", "amount_max"), ("term_min_months", "term_max_months")):
        if low in cleaned and high in cleaned and cleaned[low] > cleaned[high]:
            errors[high] = [_("The maximum is below the minimum.")]
    if "rate_min" in cleaned and "rate_max" in cleaned:
        if cleaned["rate_min"] > cleaned["rate_max"]:
            errors["rate_max"] = [_("The maximum is below the minimum.")]
        elif cleaned["rate_max"] > 36:
            errors["rate_max"] = [_("A rate above 36% a year is not lawful.")]
    grade = str(data.get("min_grade") or "").strip().upper()
    if grade and grade not in Grade.values:
        errors["min_grade"] = [_("Choose a grade from AAA to C.")]
    cleaned["min_grade"] = grade
    sections = data.get("industry_sections") or []
    if isinstance(sections, str):
        sections = [part.strip().upper() for part in sections.replace("，", ",").split(",") if part.strip()]
    known = set(Industry.objects.filter(level=1).values_list("code", flat=True))
    unknown = [section for section in sections if section not in known]
    if unknown:
        errors["industry_sections"] = [
            _("Unknown industry sections (门类): %(codes)s") % {"codes": ", ".join(map(str, unknown))}
        ]
    cleaned["industry_sections"] = sorted(set(sections))
    cleaned["collateral_required"] = bool(data.get("collateral_required"))
    cleaned["is_active"] = bool(data.get("is_active", True))
    if errors:
        raise ValidationFailed(_("The product was not saved: correct the fields marked."), fields=errors)
    return cleaned


def product_create(*, actor: User, data: dict[str, Any]) -> LoanProduct:
    """A bank publishes a loan product."""
    bank = _bank_of(actor)
    cleaned = _clean_product(data)
    with transaction.atomic():
        product = LoanProduct.objects.create(bank=bank, created_by=actor, **cleaned)
        audit_record(actor=actor, action="credit.product.created", obj=product)
    return product


def product_update(*, actor: User, product: LoanProduct, data: dict[str, Any]) -> LoanProduct:
    """The bank edits (or unpublishes, with is_active False) one of its own products."""
    bank = _bank_of(actor)
    if product.bank_id != bank.pk:
        raise NotFoundError()
    merged = {**snapshot(product, PRODUCT_FIELDS), **data}
    for field in ("amount_min", "amount_max", "rate_min", "rate_max"):
        merged[field] = data.get(field, getattr(product, field))
    merged["industry_sections"] = data.get("industry_sections", product.industry_sections)
    cleaned = _clean_product(merged)
    with transaction.atomic():
        before = snapshot(product, PRODUCT_FIELDS)
        for field, value in cleaned.items():
            setattr(product, field, value)
        product.save()
        after = snapshot(product, PRODUCT_FIELDS)
        audit_record(
            actor=actor,
            action="credit.product.updated",
            obj=product,
            changes={key: [before[key], after[key]] for key in after if before[key] != after[key]},
        )
    return product


# -- offers on financing needs -------------------------------------------------------------------


def offer_create(
    *,
    actor: User,
    need: ServiceRequest,
    amount: Any,
    term_months: Any,
    rate: Any,
    product: LoanProduct | None = None,
    message: str = "",
) -> FinancingOffer:
    """A bank responds to a financing need the firm published."""
    from zhiyuan.servicedesk.selectors import financing_needs_for_bank

    bank = _bank_of(actor)
    if not financing_needs_for_bank(actor).filter(pk=need.pk).exists():
        raise NotFoundError()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, parse in (
        ("amount", lambda: _decimal(amount, "amount")),
        ("term_months", lambda: _whole(term_months, "term_months")),
        ("rate", lambda: _decimal(rate, "rate")),
    ):
        try:
            cleaned[field] = parse()
        except ValidationFailed as error:
            errors[field] = [error.message]
    if product is not None and (product.bank_id != bank.pk or not product.is_active):
        errors["product"] = [_("Choose one of your own published products.")]
    if "rate" in cleaned and cleaned["rate"] > 36:
        errors["rate"] = [_("A rate above 36% a year is not lawful.")]
    if errors:
        raise ValidationFailed(_("The offer was not sent: correct the fields marked."), fields=errors)
    try:
        with transaction.atomic():
            offer = FinancingOffer.objects.create(
                need=need, bank=bank, product=product, message=(message or "").strip(), created_by=actor, **cleaned
            )
            audit_record(
                actor=actor, action="credit.offer.created", obj=offer, changes={"amount": [None, str(offer.amount)]}
            )
            notify(
                recipients=_users_of_firm(need.enterprise),
                title=_("%(bank)s made an offer on your financing need") % {"bank": bank.name},
                body=_("%(amount)s (10k yuan), %(term)s months, %(rate)s%% a year")
                % {"amount": offer.amount, "term": offer.term_months, "rate": offer.rate},
                link=f"/credit/needs/{need.pk}/",
            )
    except IntegrityError:
        raise ConflictError(_("Your bank already has a live offer on this need.")) from None
    return offer


def _offer_step(
    *, actor: User, offer: FinancingOffer, side: str, allowed: set[str], to: str, **fields: Any
) -> FinancingOffer:
    """Move an offer from one of `allowed` to `to`, for the bank (`side="bank"`) or the firm."""
    if side == "bank":
        if _bank_of(actor).pk != offer.bank_id:
            raise NotFoundError()
    elif _firm_of(actor).pk != offer.need.enterprise_id:
        raise NotFoundError()
    with transaction.atomic():
        offer = FinancingOffer.objects.select_for_update().select_related("need__enterprise", "bank").get(pk=offer.pk)
        if offer.status not in allowed:
            raise ConflictError(
                _("This offer is %(status)s and cannot be changed that way.") % {"status": offer.get_status_display()}
            )
        before = offer.status
        offer.status = to
        for name, value in fields.items():
            setattr(offer, name, value)
        offer.save()
        audit_record(actor=actor, action=f"credit.offer.{to}", obj=offer, changes={"status": [before, to]})
        recipients = _users_of_firm(offer.need.enterprise) if side == "bank" else _users_of_org(offer.bank)
        notify(
            recipients=recipients,
            title=_("Financing offer %(status)s: %(firm)s")
            % {"status": offer.get_status_display(), "firm": offer.need.enterprise.name},
            link=f"/credit/needs/{offer.need_id}/",
        )
    return offer


def offer_withdraw(*, actor: User, offer: FinancingOffer) -> FinancingOffer:
    return _offer_step(actor=actor, offer=offer, side="bank", allowed={OfferStatus.OFFERED}, to=OfferStatus.WITHDRAWN)


def offer_accept(*, actor: User, offer: FinancingOffer) -> FinancingOffer:
    return _offer_step(actor=actor, offer=offer, side="firm", allowed={OfferStatus.OFFERED}, to=OfferStatus.ACCEPTED)


def offer_decline(*, actor: User, offer: FinancingOffer) -> FinancingOffer:
    return _offer_step(actor=actor, offer=offer, side="firm", allowed={OfferStatus.OFFERED}, to=OfferStatus.DECLINED)


def offer_record_outcome(
    *, actor: User, offer: FinancingOffer, granted: bool, amount: Any = None, granted_on: Any = None
) -> FinancingOffer:
    """The bank records what came of an accepted offer: the loan granted (amount, date) — the
    platform's 'financing facilitated' — or not granted."""
    if _bank_of(actor).pk != offer.bank_id:
        raise NotFoundError()
    if not granted:
        return _offer_step(
            actor=actor, offer=offer, side="bank", allowed={OfferStatus.ACCEPTED}, to=OfferStatus.NOT_GRANTED
        )
    errors: dict[str, list[str]] = {}
    value = day = None
    try:
        value = _decimal(amount, "granted_amount")
    except ValidationFailed as error:
        errors["granted_amount"] = [error.message]
    try:
        day = _date(granted_on, "granted_on", required=False) or _today()
        if day > _today():
            errors["granted_on"] = [_("The date cannot be in the future.")]
    except ValidationFailed as error:
        errors["granted_on"] = [error.message]
    if errors:
        raise ValidationFailed(_("The outcome was not recorded: correct the fields marked."), fields=errors)
    return _offer_step(
        actor=actor,
        offer=offer,
        side="bank",
        allowed={OfferStatus.ACCEPTED},
        to=OfferStatus.GRANTED,
        granted_amount=value,
        granted_on=day,
    )
