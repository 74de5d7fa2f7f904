"""Core write services: audit entries and notifications."""

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone

from zhiyuan.core.models import AuditEntry, Notification


def _display(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value for the audit trail."""
    if isinstance(value, models.Model):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_display(v) for v in value]
    return str(value)


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """Capture the display values of `fields` on `obj`, before or after a change."""
    values = {}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "all") and callable(value.all):  # many-to-many manager
            value = sorted(str(v) for v in value.all())
        values[name] = _display(value)
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields whose value changed, as {field: [old, new]}."""
    return {name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]}


def audit_record(*, actor, action: str, obj: models.Model, changes: dict | None = None) -> AuditEntry:
    """Append one audit entry for a write made by `actor` (None for the system) on `obj`.

    `action` is a dotted name such as `enterprises.enterprise.updated`; `changes` maps each changed
    field to [old, new]. Call it inside the service's transaction so the entry commits with the change.
    """
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_repr=_actor_repr(actor),
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        changes=changes or {},
    )


def audit_record_many(*, actor, action: str, objs: list[models.Model], changes_for=None) -> int:
    """Append one audit entry per object in one query (bulk imports); returns how many were written."""
    if not objs:
        return 0
    content_type = ContentType.objects.get_for_model(objs[0], for_concrete_model=False)
    actor_repr = _actor_repr(actor)
    actor_obj = actor if getattr(actor, "pk", None) else None
    entries = [
        AuditEntry(
            actor=actor_obj,
            actor_repr=actor_repr,
            action=action,
            content_type=content_type,
            object_id=str(obj.pk),
            object_repr=str(obj)[:255],
            changes=changes_for(obj) if changes_for else {},
        )
        for obj in objs
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    return len(entries)


def _actor_repr(actor) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return "system"
    return actor.get_full_name() or actor.get_username()


def notify(*, recipients, title: str, body: str = "", link: str = "", key: str = "") -> int:
    """Send an in-app notification to each recipient (and an e-mail to those with an address).

    With a `key`, a recipient who already has a notification with that key gets nothing new, so
    daily tasks can call this every day without repeating themselves. Returns how many were sent.
    E-mails go out after the surrounding transaction commits.
    """
    sent = []
    for user in {u.pk: u for u in recipients if u is not None}.values():
        if key and Notification.objects.filter(recipient=user, key=key).exists():
            continue
        Notification.objects.create(recipient=user, title=title[:200], body=body, link=link, key=key)
        sent.append(user)
    addresses = [u.email for u in sent if u.email]
    if addresses and settings.ZHIYUAN_NOTIFY_BY_EMAIL:
        transaction.on_commit(
            lambda: send_mail(title, f"{body}\n{link}".strip(), None, addresses, fail_silently=True)
        )
    return len(sent)


def notification_mark_read(*, actor, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's notifications (all, or the given ids) as read; returns how many changed."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
