"""The hash-chained message log: append one entry, and verify the whole chain.

Each entry's hash is HMAC-SHA256, keyed with ZHIYUAN_DATALINK_LOG_KEY (derived from the secret key
unless set), over the previous entry's hash and this entry's content. Without the key nobody can
recompute the chain after changing it, so an edited, deleted, inserted or reordered entry shows up
as a break; the LogHead row also remembers the last entry, so a deleted tail shows up too.
"""

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhiyuan.datalink.models import LogHead, MessageLogEntry
from zhiyuan.datalink.protocol import canonical_json

GENESIS_HASH = "0" * 64
HEAD_ID = 1


def _log_key() -> bytes:
    explicit = os.environ.get("ZHIYUAN_DATALINK_LOG_KEY", "")
    if explicit:
        return explicit.encode()
    return hashlib.sha256(b"zhiyuan-datalink-log:" + settings.SECRET_KEY.encode()).digest()


def entry_hash(entry: MessageLogEntry) -> str:
    """The chain hash of `entry` given its prev_hash and content."""
    content = {
        "seq": entry.seq,
        "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "direction": entry.direction,
        "event": entry.event,
        "message_id": entry.message_id,
        "message_type": entry.message_type,
        "headers": entry.headers,
        "body": entry.body,
        "signature": entry.signature,
        "detail": entry.detail,
    }
    return hmac.new(_log_key(), entry.prev_hash.encode() + canonical_json(content), hashlib.sha256).hexdigest()


def log_append(
    *,
    direction: str,
    event: str,
    message_id: str = "",
    message_type: str = "",
    headers: dict[str, Any] | None = None,
    body: str = "",
    signature: str = "",
    detail: dict[str, Any] | None = None,
) -> MessageLogEntry:
    """Append one entry to the message log, inside the caller's transaction when there is one.

    Appends are serialised on the LogHead row, so the chain never forks under concurrent writers.
    """
    with transaction.atomic():
        head = LogHead.objects.select_for_update().get(pk=HEAD_ID)
        entry = MessageLogEntry(
            seq=head.last_seq + 1,
            at=timezone.now(),
            direction=direction,
            event=event,
            message_id=str(message_id or ""),
            message_type=message_type,
            headers=headers or {},
            body=body,
            signature=signature,
            detail=detail or {},
            prev_hash=head.last_hash,
        )
        entry.entry_hash = entry_hash(entry)
        entry.save()
        head.last_seq, head.last_hash = entry.seq, entry.entry_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


@dataclass
class LogVerification:
    """The result of walking the chain: how many entries, and each problem found, naming the entry."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def log_verify(*, batch_size: int = 2000, progress=None) -> LogVerification:
    """Walk the log in sequence order and report every break in the chain.

    The walk covers the log as it was when the check began (up to the head read first), so entries
    appended meanwhile by a running system are neither checked nor reported as a problem.
    """
    report = LogVerification()
    head = LogHead.objects.filter(pk=HEAD_ID).first()
    end = head.last_seq if head is not None else None
    hashes_by_value: dict[str, int] = {}
    expected_seq, prev_hash, last = 1, GENESIS_HASH, None
    queryset = MessageLogEntry.objects.order_by("seq")
    if end is not None:
        queryset = queryset.filter(seq__lte=end)
    for entry in queryset.iterator(chunk_size=batch_size):
        report.entries += 1
        if entry.seq > expected_seq:
            missing = f"#{expected_seq}" if entry.seq == expected_seq + 1 else f"#{expected_seq}–#{entry.seq - 1}"
            report.problems.append(
                _("Entry %(missing)s missing: deleted from the log (found #%(next)s next).")
                % {"missing": missing, "next": entry.seq}
            )
        if entry_hash(entry) != entry.entry_hash:
            report.problems.append(
                _("Entry #%(seq)s edited: its content does not match its hash.") % {"seq": entry.seq}
            )
        elif entry.prev_hash != prev_hash:
            if entry.prev_hash in hashes_by_value or entry.prev_hash == GENESIS_HASH:
                before = hashes_by_value.get(entry.prev_hash, 0)
                report.problems.append(
                    _("Entry #%(seq)s out of order: it follows #%(before)s in the chain, not #%(previous)s.")
                    % {"seq": entry.seq, "before": before, "previous": entry.seq - 1}
                )
            elif entry.seq == expected_seq:
                report.problems.append(
                    _("Entry #%(seq)s does not follow #%(previous)s: an entry was inserted or replaced here.")
                    % {"seq": entry.seq, "previous": entry.seq - 1}
                )
        hashes_by_value[entry.entry_hash] = entry.seq
        prev_hash, expected_seq, last = entry.entry_hash, entry.seq + 1, entry
        if progress and report.entries % batch_size == 0:
            progress(report.entries)
    if head is None:
        return report
    if last is None and head.last_seq:
        report.problems.append(_("Entries #1–#%(last)s missing: the log is empty.") % {"last": head.last_seq})
    elif last is not None and (head.last_seq != last.seq or head.last_hash != last.entry_hash):
        if head.last_seq > last.seq:
            report.problems.append(
                _("Entries #%(first)s–#%(last)s missing: deleted from the end of the log.")
                % {"first": last.seq + 1, "last": head.last_seq}
            )
        else:
            report.problems.append(
                _("Entry #%(seq)s edited: its content does not match its hash.") % {"seq": last.seq}
            )
    # Entries beyond the head as it is now were not written through log_append.
    current_end = LogHead.objects.filter(pk=HEAD_ID).values_list("last_seq", flat=True).first() or 0
    beyond = MessageLogEntry.objects.filter(seq__gt=current_end).order_by("seq").first()
    if beyond is not None:
        report.problems.append(
            _("Entry #%(seq)s is past the recorded end (#%(end)s): appended outside Zhiyuan.")
            % {"seq": beyond.seq, "end": current_end}
        )
    return report
