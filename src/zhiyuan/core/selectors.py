"""Core read selectors: audit history and notifications."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from zhiyuan.core.models import AuditEntry, Notification


def audit_history(obj: models.Model) -> QuerySet[AuditEntry]:
    """Every audit entry recorded for `obj`, newest first.

    The caller must already have checked that the user may see `obj`; the history is part of it.
    """
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).select_related(
        "actor", "content_type"
    )



def notifications_for(user) -> QuerySet[Notification]:
    """The user's own notifications, newest first."""
    return Notification.objects.filter(recipient=user)


def unread_notification_count(user) -> int:
    """How many of the user's notifications are unread (the badge in the header)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
