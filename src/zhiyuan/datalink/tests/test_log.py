"""The hash-chained message log: real appends, then tampering straight in the database, and the check
(`log_verify` and `zhiyuan datalink verify-log`) naming each broken entry."""

import datetime as dt
import hashlib
import re

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import translation

from zhiyuan.datalink.adapters import DeliveryOutcome
from zhiyuan.datalink.log import GENESIS_HASH, entry_hash, log_append, log_verify
from zhiyuan.datalink.models import LogHead, MessageLogEntry
from zhiyuan.datalink.services import delivery_record, message_enqueue


@pytest.fixture
def log(db) -> list[MessageLogEntry]:
    """Six entries written the way the link writes them: two queued messages, a failed attempt, an inbound one."""
    first = message_enqueue(message_type="application.submit", payload={"application_number": "HT1"}, subject="t:1")
    message_enqueue(message_type="application.submit", payload={"application_number": "HT2"}, subject="t:2")
    delivery_record(message=first, outcome=DeliveryOutcome(ok=False, retryable=True, status=503, error="HTTP 503"))
    log_append(direction="in", event="received", message_id="0b8f…", message_type="case.status",
               body='{"status":"in_review"}', signature="c2ln", detail={"remote_addr": "10.0.0.1"})
    log_append(direction="in", event="rejected", body="garbage", detail={"code": "malformed"})
    log_append(direction="out", event="dead", message_id=str(first.message_id), detail={"attempts": 12})
    entries = list(MessageLogEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    return entries


KINDS = (
    ("past the recorded end", "past_end"),
    ("end of the log", "tail_missing"),
    ("log is empty", "empty"),
    ("missing", "missing"),
    ("edited", "edited"),
    ("out of order", "out_of_order"),
    ("does not follow", "not_following"),
)


def problems() -> list[str]:
    """The problems found, in English (the msgids), lower-cased."""
    with translation.override("en"):
        report = log_verify()
    assert report.ok is (not report.problems)
    return [str(p).lower() for p in report.problems]


def kind_of(problem: str) -> str:
    return next(kind for phrase, kind in KINDS if phrase in problem)


def found() -> list[tuple[int, str]]:
    """Each problem as (the entry it names first, what is wrong with it)."""
    return [(numbers(p)[0], kind_of(p)) for p in problems()]


def numbers(problem: str) -> list[int]:
    return [int(n) for n in re.findall(r"#(\d+)", problem)]


def test_an_intact_log_verifies(log):
    report = log_verify()
    assert report.ok and report.entries == 6 and report.problems == []
    head = LogHead.objects.get()
    assert (head.last_seq, head.last_hash) == (6, log[-1].entry_hash)
    assert log[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in zip(log, log[1:], strict=False))


def test_the_chain_is_keyed(log):
    # The hash is not a plain SHA-256 anyone could recompute after an edit.
    entry = log[2]
    assert entry_hash(entry) == entry.entry_hash
    assert hashlib.sha256(entry.prev_hash.encode() + entry.body.encode()).hexdigest() != entry.entry_hash


@pytest.mark.parametrize("field, value", [
    ("body", '{"application_number":"HT9"}'),
    ("detail", {"subject": "t:9"}),
    ("signature", "forged"),
    ("event", "delivered"),
    ("message_type", "case.status"),
    ("direction", "in"),
])
def test_an_edited_entry_is_named(log, field, value):
    MessageLogEntry.objects.filter(seq=3).update(**{field: value})
    assert found() == [(3, "edited")]


def test_an_edited_time_is_named(log):
    MessageLogEntry.objects.filter(seq=2).update(at=F("at") + dt.timedelta(seconds=1))
    assert found() == [(2, "edited")]


def test_an_edited_entry_with_its_hash_recomputed_by_sha256_is_still_caught(log):
    forged = MessageLogEntry.objects.get(seq=4)
    forged.body = '{"status":"granted"}'
    forged.entry_hash = hashlib.sha256(forged.prev_hash.encode() + forged.body.encode()).hexdigest()
    MessageLogEntry.objects.filter(seq=4).update(body=forged.body, entry_hash=forged.entry_hash)
    assert found()[0] == (4, "edited")
    # Its successor no longer follows it either; nothing else is blamed.
    assert {seq for seq, _kind in found()} <= {4, 5}


def test_a_deleted_middle_entry_is_named(log):
    MessageLogEntry.objects.filter(seq=3).delete()
    assert found() == [(3, "missing")]
    assert "#4" in problems()[0]  # and where the log goes on


def test_several_deleted_entries_are_named(log):
    MessageLogEntry.objects.filter(seq__in=[2, 3]).delete()
    assert found() == [(2, "missing")]
    assert numbers(problems()[0])[:2] == [2, 3]


def test_deleted_last_entries_are_caught_through_the_head(log):
    MessageLogEntry.objects.filter(seq__gte=5).delete()
    assert found() == [(5, "tail_missing")]
    assert numbers(problems()[0]) == [5, 6]


def test_a_deleted_whole_log_is_caught(log):
    MessageLogEntry.objects.all().delete()
    assert found() == [(1, "empty")]
    assert numbers(problems()[0]) == [1, 6]


def test_an_empty_new_log_is_fine(db):
    assert log_verify().ok and log_verify().entries == 0


def _renumber_from(seq: int) -> None:
    """Make room at `seq` by moving every later entry one place on (last first: seq is unique)."""
    for entry in MessageLogEntry.objects.filter(seq__gte=seq).order_by("-seq"):
        MessageLogEntry.objects.filter(pk=entry.pk).update(seq=entry.seq + 1)


def test_an_inserted_entry_is_caught(log):
    _renumber_from(3)
    forged = MessageLogEntry(seq=3, at=log[2].at, direction="in", event="received", message_id="forged",
                             message_type="case.status", body='{"status":"granted"}', prev_hash=log[1].entry_hash)
    forged.entry_hash = hashlib.sha256(forged.body.encode()).hexdigest()
    forged.save()
    result = found()
    assert result[0] == (3, "edited")
    # The old #3, now #4, was renumbered: its hash covers its number.
    assert (4, "edited") in result
    # And the log now runs past the recorded end (#6).
    assert (7, "past_end") in result


def test_an_inserted_entry_hashed_with_the_key_is_still_caught(log):
    """Even an insider holding the log key, who hashes the forged entry correctly, leaves a break: the next
    entry's hash covers both its number and its predecessor's hash."""
    _renumber_from(3)
    forged = MessageLogEntry(seq=3, at=log[2].at, direction="in", event="received", message_id="forged",
                             message_type="case.status", body='{"status":"granted"}', prev_hash=log[1].entry_hash)
    forged.entry_hash = entry_hash(forged)
    forged.save()
    result = found()
    assert (3, "edited") not in result  # the forged entry itself is consistent…
    assert (4, "edited") in result  # …but the renumbered entry after it is not


def test_an_entry_appended_outside_the_log_is_caught(log):
    forged = MessageLogEntry(seq=7, at=log[-1].at, direction="in", event="received", body="{}",
                             prev_hash=log[-1].entry_hash)
    forged.entry_hash = entry_hash(forged)
    forged.save()
    assert found() == [(7, "past_end")]
    assert numbers(problems()[0]) == [7, 6]


def test_swapped_entries_are_reported(log):
    MessageLogEntry.objects.filter(seq=2).update(seq=100)
    MessageLogEntry.objects.filter(seq=3).update(seq=2)
    MessageLogEntry.objects.filter(seq=100).update(seq=3)
    # Both moved entries are named (their hashes cover their numbers); the entry after them is named too,
    # as in the chain it now follows the entry numbered #2 instead of #3.
    assert found() == [(2, "edited"), (3, "edited"), (4, "out_of_order")]


def test_swapped_entries_rehashed_with_the_key_are_reported_out_of_order(log):
    """A swap by someone who recomputes each moved entry's own hash: the chain links give it away."""
    second, third = MessageLogEntry.objects.get(seq=2), MessageLogEntry.objects.get(seq=3)
    MessageLogEntry.objects.filter(pk=second.pk).update(seq=100)
    for entry, seq in ((third, 2), (second, 3)):
        entry.seq = seq
        MessageLogEntry.objects.filter(pk=entry.pk).update(seq=seq, entry_hash=entry_hash(entry))
    result = found()
    assert (3, "out_of_order") in result, result
    assert (2, "not_following") in result, result


def test_new_appends_after_a_good_log_keep_it_good(log):
    log_append(direction="out", event="queued", message_id="x", body="{}")
    assert log_verify().ok and log_verify().entries == 7


def test_verify_log_command(log, capsys):
    with translation.override("en"):
        call_command("datalink", "verify-log")
        assert "6 entries" in capsys.readouterr().out
        MessageLogEntry.objects.filter(seq=4).update(body="tampered")
        with pytest.raises(CommandError):
            call_command("datalink", "verify-log")
    out = capsys.readouterr().out.lower()
    assert "#4" in out and "edited" in out


def test_verify_reports_progress_in_batches(log):
    seen = []
    report = log_verify(batch_size=2, progress=seen.append)
    assert report.ok and seen == [2, 4, 6]


def test_entries_appended_during_the_check_are_not_reported(log):
    """A running system keeps appending while the chain is walked: the check covers the log as it was."""

    def append_meanwhile(_checked: int) -> None:
        log_append(direction="in", event="received", body='{"late": true}')

    report = log_verify(batch_size=1, progress=append_meanwhile)
    assert report.ok, report.problems
    assert report.entries == 6 and MessageLogEntry.objects.count() == 12
    assert log_verify().ok
