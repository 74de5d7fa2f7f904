"""Data-link writes: queue a message in the caller's transaction, deliver due messages, receive the
city's messages exactly once, and let staff retry or correct dead letters.

Delivery is at least once (a message is sent until the city acknowledges it) and effects are exactly
once (each side de-duplicates on the message id), so nothing acknowledged is lost and nothing is done
twice, whatever fails in between: the city, the network, or a worker killed mid-send.
"""

import logging
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.accounts.models import Role, User
from zhiyuan.core.errors import ConflictError, DomainError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.services import audit_record, notify
from zhiyuan.datalink import keys, registry
from zhiyuan.datalink.adapters import CityAdapter, DeliveryOutcome, city_adapter
from zhiyuan.datalink.log import log_append
from zhiyuan.datalink.models import InboundMessage, LogDirection, LogEvent, OutboxMessage, OutboxStatus
from zhiyuan.datalink.protocol import (
    DUPLICATE_HEADER,
    MESSAGE_TYPES,
    SIGNATURE_HEADER,
    ProtocolError,
    build_reply,
    canonical_json,
    parse_message,
    sign,
)

logger = logging.getLogger(__name__)

OPERATOR_ROLES = frozenset({Role.ADMIN, Role.WINDOW_CLERK})


def backoff_seconds(attempts: int) -> float:
    """Full-jitter exponential backoff: a random wait in [0, min(cap, base·2^(attempts-1))] seconds."""
    base = settings.ZHIYUAN_DATALINK_BACKOFF_BASE_MS / 1000
    cap = settings.ZHIYUAN_DATALINK_BACKOFF_CAP_MS / 1000
    return random.uniform(0, min(cap, base * 2 ** max(attempts - 1, 0)))


def message_enqueue(*, message_type: str, payload: dict[str, Any], subject: str) -> OutboxMessage:
    """Queue a message to the city. Call it inside the transaction of the business change that causes
    it: if that change rolls back, so does the message; if it commits, the message will be delivered."""
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"unknown data-link message type {message_type!r}")
    with transaction.atomic():
        message = OutboxMessage.objects.create(
            message_id=uuid.uuid4(),
            message_type=message_type,
            payload=payload,
            subject=subject,
            next_attempt_at=timezone.now(),
        )
        log_append(
            direction=LogDirection.OUT,
            event=LogEvent.QUEUED,
            message_id=str(message.message_id),
            message_type=message_type,
            body=canonical_json(payload).decode("utf-8"),
            detail={"subject": subject},
        )
    return message


@dataclass
class DeliveryRound:
    """What one call of deliver_due did."""

    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0


def _claim(limit: int, concurrency: int = 1) -> list[OutboxMessage]:
    """Lease up to `limit` due messages to this worker (skipping rows another worker holds on PostgreSQL).

    The lease outlasts the slowest possible round (every send timing out), so another worker never
    takes over a message this one is still sending.
    """
    now = timezone.now()
    rounds = -(-limit // max(concurrency, 1))
    lease = max(settings.ZHIYUAN_DATALINK_LEASE_SECONDS, rounds * settings.ZHIYUAN_DATALINK_TIMEOUT_SECONDS + 10)
    lease_until = now + timezone.timedelta(seconds=lease)
    with transaction.atomic():
        due = (
            OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("next_attempt_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        claimed = list(due[:limit])
        OutboxMessage.objects.filter(pk__in=[m.pk for m in claimed]).update(locked_until=lease_until)
    return claimed


def deliver_due(*, limit: int = 50, concurrency: int = 4, adapter: CityAdapter | None = None) -> DeliveryRound:
    """Send the messages that are due: claim a batch, POST them in parallel, record each outcome."""
    adapter = adapter or city_adapter()
    claimed = _claim(limit, concurrency)
    result = DeliveryRound(claimed=len(claimed))
    if not claimed:
        return result

    def send(message: OutboxMessage) -> DeliveryOutcome:
        try:
            return adapter.deliver(
                message_id=str(message.message_id), message_type=message.message_type, payload=message.payload
            )
        except Exception as error:  # an adapter bug must cost one attempt, not the worker
            logger.exception("datalink: adapter failed on %s", message.message_id)
            return DeliveryOutcome(ok=False, retryable=True, error=f"{type(error).__name__}: {error}")

    if concurrency > 1 and len(claimed) > 1:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(claimed))) as pool:
            outcomes = list(pool.map(send, claimed))
    else:
        outcomes = [send(message) for message in claimed]
    for message, outcome in zip(claimed, outcomes, strict=True):
        status = delivery_record(message=message, outcome=outcome)
        if status == OutboxStatus.DELIVERED:
            result.delivered += 1
        elif status == OutboxStatus.DEAD:
            result.dead += 1
        elif status == OutboxStatus.PENDING:
            result.retried += 1
    return result


def delivery_record(*, message: OutboxMessage, outcome: DeliveryOutcome) -> str | None:
    """Record one delivery attempt: delivered (and hand the city's reply to the business handler),
    scheduled for a retry, or dead-lettered. Returns the message's new status (None when another
    worker had already finished it)."""
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().filter(pk=message.pk).first()
        if locked is None or locked.status != OutboxStatus.PENDING:
            return None
        locked.attempts += 1
        locked.locked_until = None
        if outcome.ok:
            locked.status = OutboxStatus.DELIVERED
            locked.delivered_at = timezone.now()
            locked.reply = outcome.result
            locked.last_error = ""
            # The handler locks its business row (e.g. the application) before log_append below locks the log
            # head: every writer takes its business row first and the log head last, so a city callback for
            # the same application, arriving meanwhile, cannot deadlock with this transaction (PostgreSQL).
            handler = registry.delivery_handler(locked.message_type)
            if handler is not None:
                try:
                    with transaction.atomic():
                        handler(locked, outcome.result or {})
                except DomainError as error:
                    # The city has the message; what we could not record is kept visible on the message.
                    locked.last_error = _("Delivered, but the reply could not be applied: %(error)s") % {
                        "error": error.message
                    }
                    logger.error("datalink: reply to %s not applied: %s", locked.message_id, error.message)
        log_append(
            direction=LogDirection.OUT,
            event=LogEvent.ATTEMPT,
            message_id=str(locked.message_id),
            message_type=locked.message_type,
            headers=outcome.request_headers,
            body=outcome.request_body,
            signature=outcome.signature,
            detail={
                "attempt": locked.attempts,
                "http_status": outcome.status,
                "error": outcome.error[:1000],
                "duplicate": outcome.duplicate,
                "duration_ms": outcome.duration_ms,
                "reply": outcome.reply_body[:2000],
            },
        )
        if outcome.ok:
            log_append(
                direction=LogDirection.OUT,
                event=LogEvent.DELIVERED,
                message_id=str(locked.message_id),
                message_type=locked.message_type,
                detail={"result": outcome.result or {}, "attempts": locked.attempts},
            )
        elif not outcome.retryable or locked.attempts >= settings.ZHIYUAN_DATALINK_MAX_ATTEMPTS:
            locked.status = OutboxStatus.DEAD
            locked.last_error = outcome.error
            log_append(
                direction=LogDirection.OUT,
                event=LogEvent.DEAD,
                message_id=str(locked.message_id),
                message_type=locked.message_type,
                detail={"attempts": locked.attempts, "error": outcome.error[:1000]},
            )
            _notify_dead_letter(locked)
        else:
            locked.last_error = outcome.error
            locked.next_attempt_at = timezone.now() + timezone.timedelta(seconds=backoff_seconds(locked.attempts))
        locked.save()
    return locked.status


def _notify_dead_letter(message: OutboxMessage) -> None:
    from django.urls import reverse

    notify(
        recipients=User.objects.filter(role__in=OPERATOR_ROLES, is_active=True),
        title=_("A message to the city could not be delivered"),
        body=_("%(type)s %(id)s: %(error)s") % {
            "type": message.message_type, "id": message.message_id, "error": message.last_error[:300]
        },
        link=reverse("datalink:message", args=[message.pk]),
        key=f"datalink-dead-{message.pk}-{message.attempts}",
    )


# Inbound ------------------------------------------------------------------------------------------


@dataclass
class InboundReply:
    """The HTTP answer to a message from the city."""

    status: int
    body: bytes
    headers: dict[str, str]


def _signed(status: int, body: bytes, **extra: str) -> InboundReply:
    return InboundReply(status, body, {SIGNATURE_HEADER: sign(body, keys.district_private_key()), **extra})


def inbound_receive(
    *, body: bytes, signature: str | None, remote_addr: str = "", headers: dict[str, str] | None = None
) -> InboundReply:
    """Verify, de-duplicate and act on one message from the city; every outcome is logged.

    Unsigned, forged, stale and malformed messages are rejected with 4xx. A retry of a message already
    acted on gets the original reply and no second effect; the same id with other content is a
    replay and is rejected (409). A handler's DomainError (e.g. an unknown application) rejects the
    message without recording it, so a later retry can still succeed.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        envelope = parse_message(
            body,
            signature,
            keys.city_public_key(),
            expected_sender="city",
            max_skew_seconds=settings.ZHIYUAN_DATALINK_MAX_SKEW_SECONDS,
        )
    except ProtocolError as error:
        return _reject(error, text=text, signature=signature, remote_addr=remote_addr, headers=headers)
    try:
        return _inbound_once(envelope, text=text, signature=signature or "", remote_addr=remote_addr, headers=headers)
    except IntegrityError:
        # The same message arrived twice at once and the other copy committed first: answer as a duplicate.
        return _inbound_once(envelope, text=text, signature=signature or "", remote_addr=remote_addr, headers=headers)


def _inbound_once(
    envelope, *, text: str, signature: str, remote_addr: str, headers: dict[str, str] | None
) -> InboundReply:
    rejection: ProtocolError | None = None
    with transaction.atomic():
        seen = InboundMessage.objects.select_for_update().filter(message_id=envelope.id).first()
        if seen is not None and seen.fingerprint != envelope.fingerprint:
            rejection = ProtocolError("replayed", "This message id was already used for other content.", 409)
        elif seen is not None:
            log_append(
                direction=LogDirection.IN,
                event=LogEvent.DUPLICATE,
                message_id=envelope.id,
                message_type=envelope.type,
                body=text,
                signature=signature,
                detail={"remote_addr": remote_addr},
            )
            return _signed(seen.reply_status, seen.reply_body.encode("utf-8"), **{DUPLICATE_HEADER: "1"})
        elif (handler := registry.inbound_handler(envelope.type)) is None:
            rejection = ProtocolError("unsupported", f"The district does not accept {envelope.type!r} messages.", 400)
        else:
            try:
                with transaction.atomic():
                    result = handler(envelope)
            except DomainError as domain_error:
                rejection = ProtocolError(domain_error.code, str(domain_error.message), domain_error.status)
            else:
                reply_body = build_reply(envelope.id, result)
                InboundMessage.objects.create(
                    message_id=envelope.id,
                    message_type=envelope.type,
                    fingerprint=envelope.fingerprint,
                    payload=envelope.payload,
                    reply_status=200,
                    reply_body=reply_body.decode("utf-8"),
                )
                log_append(
                    direction=LogDirection.IN,
                    event=LogEvent.RECEIVED,
                    headers=headers,
                    message_id=envelope.id,
                    message_type=envelope.type,
                    body=text,
                    signature=signature,
                    detail={"remote_addr": remote_addr, "result": result},
                )
    if rejection is not None:
        return _reject(
            rejection, text=text, signature=signature, remote_addr=remote_addr, envelope=envelope, headers=headers
        )
    return _signed(200, reply_body)


def _reject(
    error: ProtocolError,
    *,
    text: str,
    signature: str | None,
    remote_addr: str,
    envelope=None,
    headers: dict[str, str] | None = None,
) -> InboundReply:
    """Log a rejected message (nothing else is written) and answer 4xx with the reason."""
    logger.warning("datalink: rejected message from %s: %s (%s)", remote_addr or "?", error.code, error.message)
    log_append(
        direction=LogDirection.IN,
        event=LogEvent.REJECTED,
        headers=headers,
        message_id=envelope.id if envelope else "",
        message_type=envelope.type if envelope else "",
        body=text[:20000],
        signature=signature or "",
        detail={"code": error.code, "reason": error.message, "http_status": error.status, "remote_addr": remote_addr},
    )
    return InboundReply(error.status, error.as_body(), {})


# Dead letters ------------------------------------------------------------------------------------


def _require_operator(actor: User | None) -> None:
    if actor is None or actor.role not in OPERATOR_ROLES:
        raise PermissionDeniedError()


def message_retry(*, actor: User, message: OutboxMessage) -> OutboxMessage:
    """Send a dead letter again as it is (same id, so the city still de-duplicates it)."""
    _require_operator(actor)
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != OutboxStatus.DEAD:
            raise ConflictError(_("Only a dead letter can be sent again."))
        locked.status = OutboxStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.locked_until = None
        locked.save()
        log_append(
            direction=LogDirection.OUT,
            event=LogEvent.RETRIED,
            message_id=str(locked.message_id),
            message_type=locked.message_type,
            detail={"by": actor.get_username()},
        )
        audit_record(
            actor=actor, action="datalink.message.retried", obj=locked, changes={"status": ["dead", "pending"]}
        )
    return locked


def message_correct(*, actor: User, message: OutboxMessage, payload: Any) -> OutboxMessage:
    """Replace a dead letter by a corrected copy with a new message id (the city would refuse changed
    content under the old id); the old message is kept, marked superseded, and linked to the new one."""
    _require_operator(actor)
    if not isinstance(payload, dict):
        raise ValidationFailed(_("The payload must be a JSON object."), field="payload")
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status != OutboxStatus.DEAD:
            raise ConflictError(_("Only a dead letter can be corrected."))
        locked.status = OutboxStatus.SUPERSEDED
        locked.save(update_fields=["status"])
        replacement = message_enqueue(message_type=locked.message_type, payload=payload, subject=locked.subject)
        replacement.replaces = locked
        replacement.save(update_fields=["replaces"])
        audit_record(
            actor=actor,
            action="datalink.message.corrected",
            obj=locked,
            changes={"status": ["dead", "superseded"], "replaced_by": [None, str(replacement.message_id)]},
        )
    return replacement
