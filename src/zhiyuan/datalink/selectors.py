"""Data-link reads for the staff pages: who may see them, the link's health, the outbox by status,
and the message log."""

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from zhiyuan.accounts.models import Role, User
from zhiyuan.datalink.models import LogDirection, LogEvent, MessageLogEntry, OutboxMessage, OutboxStatus
from zhiyuan.datalink.services import OPERATOR_ROLES

# Roles that see the data-link pages; of them, OPERATOR_ROLES also act (retry, correct, verify).
VIEWER_ROLES = OPERATOR_ROLES | {Role.LEADER}
# What an outbox message's `subject` ("<kind>:<pk>") links to on the staff pages.
SUBJECT_URLS = {"approvals.application": "approvals:detail"}


def _signed_in(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_view(user: User | None) -> bool:
    """District staff who watch the link: the operators and the leaders."""
    return _signed_in(user) and user.role in VIEWER_ROLES


def can_operate(user: User | None) -> bool:
    """Staff who retry and correct dead letters (the window clerk and the admin)."""
    return _signed_in(user) and user.role in OPERATOR_ROLES


def can_verify_log(user: User | None) -> bool:
    """Only the admin runs the chain verification from the page."""
    return _signed_in(user) and user.role == Role.ADMIN


@dataclass
class LinkHealth:
    """The figures on top of the data-link page."""

    pending: int
    oldest_pending_at: dt.datetime | None
    delivered_today: int
    dead: int
    rejected_24h: int
    last_delivered_at: dt.datetime | None

    @property
    def oldest_pending_age(self) -> dt.timedelta | None:
        return timezone.now() - self.oldest_pending_at if self.oldest_pending_at else None


def link_health(*, now: dt.datetime | None = None) -> LinkHealth:
    """How the link is doing: what waits, what arrived today, what is dead, what the district refused."""
    now = now or timezone.now()
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    figures = OutboxMessage.objects.aggregate(
        pending=Count("pk", filter=Q(status=OutboxStatus.PENDING)),
        dead=Count("pk", filter=Q(status=OutboxStatus.DEAD)),
        delivered_today=Count("pk", filter=Q(status=OutboxStatus.DELIVERED, delivered_at__gte=start_of_day)),
        last_delivered_at=Max("delivered_at"),
    )
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).order_by("created_at", "id")
    oldest = pending.values_list("created_at", flat=True).first()
    rejected = MessageLogEntry.objects.filter(
        direction=LogDirection.IN, event=LogEvent.REJECTED, at__gte=now - dt.timedelta(hours=24)
    ).count()
    return LinkHealth(
        pending=figures["pending"],
        oldest_pending_at=oldest,
        delivered_today=figures["delivered_today"],
        dead=figures["dead"],
        rejected_24h=rejected,
        last_delivered_at=figures["last_delivered_at"],
    )


def outbox_counts() -> dict[str, int]:
    """How many outbox messages are in each status (every status present, zero when none)."""
    counts = {status.value: 0 for status in OutboxStatus}
    for row in OutboxMessage.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return counts


def outbox_tabs(counts: dict[str, int]) -> list[str]:
    """The order of the status tabs: the dead letters first when there are any, last otherwise."""
    order = [OutboxStatus.PENDING, OutboxStatus.DELIVERED, OutboxStatus.SUPERSEDED]
    dead = [OutboxStatus.DEAD]
    return [s.value for s in (dead + order if counts.get(OutboxStatus.DEAD) else order + dead)]


def outbox_messages(status: str) -> QuerySet[OutboxMessage]:
    """The outbox messages in one status: what is due soonest first for pending ones, newest first otherwise."""
    queryset = OutboxMessage.objects.filter(status=status)
    if status == OutboxStatus.PENDING:
        return queryset.order_by("next_attempt_at", "id")
    return queryset.order_by("-created_at", "-id")


def subject_link(subject: str) -> str | None:
    """The page a message's subject ("approvals.application:12") points to, or None."""
    kind, _sep, pk = subject.partition(":")
    name = SUBJECT_URLS.get(kind)
    if not name or not pk.isdigit():
        return None
    try:
        return reverse(name, args=[int(pk)])
    except NoReverseMatch:
        return None


def subject_labels(subjects: list[str]) -> dict[str, str]:
    """Readable labels (the application number) for the subjects of a page of messages."""
    from zhiyuan.approvals.models import Application

    pks = {
        int(pk)
        for kind, _sep, pk in (subject.partition(":") for subject in subjects)
        if kind == "approvals.application" and pk.isdigit()
    }
    numbers = dict(Application.objects.filter(pk__in=pks).values_list("pk", "number"))
    return {f"approvals.application:{pk}": number for pk, number in numbers.items()}


def message_log(message: OutboxMessage) -> QuerySet[MessageLogEntry]:
    """Every log entry about one message, in the order they were written."""
    return MessageLogEntry.objects.filter(message_id=str(message.message_id)).order_by("seq")


def log_entries(*, direction: str = "", event: str = "", message_id: str = "") -> QuerySet[MessageLogEntry]:
    """The message log, newest first, optionally narrowed by direction, event and (part of) a message id."""
    queryset = MessageLogEntry.objects.order_by("-seq")
    if direction:
        queryset = queryset.filter(direction=direction)
    if event:
        queryset = queryset.filter(event=event)
    if message_id:
        queryset = queryset.filter(message_id__icontains=message_id.strip())
    return queryset


def outbox_pks_by_message_id(message_ids) -> dict[str, int]:
    """The outbox rows of the given message ids (strings; anything not a UUID is skipped), as {id: pk}."""
    ids = []
    for message_id in message_ids:
        try:
            ids.append(uuid.UUID(str(message_id)))
        except ValueError:
            continue
    rows = OutboxMessage.objects.filter(message_id__in=ids).values_list("message_id", "pk")
    return {str(message_id): pk for message_id, pk in rows}


def message_replaced_by(message: OutboxMessage) -> OutboxMessage | None:
    """The corrected copy that replaced a dead letter, if any."""
    return OutboxMessage.objects.filter(replaces=message).first()


def pretty_json(value: Any) -> str:
    """JSON for people: indented, Chinese left readable."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
