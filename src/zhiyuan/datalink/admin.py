"""Admin for the data link: everything is read-only. Messages change only through the services (which
keep the message log), and the log itself must never be edited — the chain verification would
report it, but the admin does not even offer it."""

from django.contrib import admin

from zhiyuan.datalink.models import InboundMessage, MessageLogEntry, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete: the admin only shows."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "message_type", "subject", "status", "attempts", "next_attempt_at", "created_at",
                    "delivered_at"]
    list_filter = ["status", "message_type"]
    search_fields = ["message_id", "subject", "last_error"]
    date_hierarchy = "created_at"
    raw_id_fields = ["replaces"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "message_type", "reply_status", "received_at"]
    list_filter = ["message_type", "reply_status"]
    search_fields = ["message_id"]
    date_hierarchy = "received_at"


@admin.register(MessageLogEntry)
class MessageLogEntryAdmin(ReadOnlyAdmin):
    list_display = ["seq", "at", "direction", "event", "message_id", "message_type"]
    list_filter = ["direction", "event", "message_type"]
    search_fields = ["message_id"]
    date_hierarchy = "at"
    ordering = ["-seq"]
