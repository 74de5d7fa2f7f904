"""The data link's durable state: the outbox of messages to the city, the record of messages received
from it, and the hash-chained message log of everything that crossed the link."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")
    SUPERSEDED = "superseded", _("Replaced by a corrected message")


class OutboxMessage(models.Model):
    """A message to the city, written in the same transaction as the business change that caused it
    and delivered by the worker (at least once; the city de-duplicates on `message_id`).

    A worker claims a message by setting `locked_until` (a lease): if it dies, the lease lapses and
    another worker sends the message again. After ZHIYUAN_DATALINK_MAX_ATTEMPTS failed attempts the
    message becomes a dead letter that staff can inspect, correct (as a new message) and retry.
    """

    message_id = models.UUIDField(_("message id"), unique=True)
    message_type = models.CharField(_("type"), max_length=40)
    payload = models.JSONField(_("payload"))
    # What the message is about, e.g. "approvals.application:12", for the links on the staff pages.
    subject = models.CharField(_("subject"), max_length=100, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OutboxStatus.choices, default=OutboxStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    locked_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    reply = models.JSONField(_("reply"), null=True, blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.message_type} {self.message_id}"


class InboundMessage(models.Model):
    """A message from the city that was accepted and acted on, with the reply it got: a retry of the
    same message id gets that reply again and changes nothing."""

    message_id = models.UUIDField(_("message id"), unique=True)
    message_type = models.CharField(_("type"), max_length=40)
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    payload = models.JSONField(_("payload"))
    reply_status = models.PositiveSmallIntegerField(_("reply status"))
    reply_body = models.TextField(_("reply body"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("incoming message")
        verbose_name_plural = _("incoming messages")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.message_type} {self.message_id}"


class LogDirection(models.TextChoices):
    OUT = "out", _("Outgoing")
    IN = "in", _("Incoming")


class LogEvent(models.TextChoices):
    QUEUED = "queued", _("Queued")
    ATTEMPT = "attempt", _("Delivery attempt")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead-lettered")
    RETRIED = "retried", _("Sent again by staff")
    RECEIVED = "received", _("Received")
    DUPLICATE = "duplicate", _("Duplicate answered")
    REJECTED = "rejected", _("Rejected")


class MessageLogEntry(models.Model):
    """One append-only line of the message log. `entry_hash` is SHA-256 over the previous entry's hash
    and this entry's content, so editing, deleting, inserting or reordering any line breaks the chain
    from there on; `zhiyuan datalink verify-log` walks it and names the first broken line."""

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"))
    direction = models.CharField(_("direction"), max_length=3, choices=LogDirection.choices)
    event = models.CharField(_("event"), max_length=20, choices=LogEvent.choices)
    message_id = models.CharField(_("message id"), max_length=36, blank=True, db_index=True)
    message_type = models.CharField(_("type"), max_length=40, blank=True)
    headers = models.JSONField(_("headers"), default=dict)
    body = models.TextField(_("body"), blank=True)
    signature = models.TextField(_("signature"), blank=True)
    detail = models.JSONField(_("detail"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    entry_hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("message log entry")
        verbose_name_plural = _("message log")
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.direction} {self.event} {self.message_id}"


class LogHead(models.Model):
    """The single row that serialises appends to the message log: the last sequence number and hash."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("message log head")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
