"""The outbox: written with the business change, delivered with retries and backoff, leased to one worker
at a time, dead-lettered after too many attempts, and handled from there by staff — end to end against a
small stand-in for the city speaking the real protocol over real HTTP."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from zhiyuan.approvals import services as sv
from zhiyuan.approvals.models import Application, ApprovalItem, EventKind
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.approvals.tests.conftest import permit_item, project_a  # noqa: F401 (fixtures)
from zhiyuan.approvals.tests.test_services import Desk
from zhiyuan.core.errors import ConflictError, PermissionDeniedError, ValidationFailed
from zhiyuan.core.models import AuditEntry, Notification
from zhiyuan.datalink import keys, protocol
from zhiyuan.datalink.adapters import DeliveryOutcome, SignedHttpAdapter
from zhiyuan.datalink.log import log_verify
from zhiyuan.datalink.models import LogHead, MessageLogEntry, OutboxMessage, OutboxStatus
from zhiyuan.datalink.services import (
    _claim,
    backoff_seconds,
    deliver_due,
    delivery_record,
    message_correct,
    message_enqueue,
    message_retry,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk(personas, project_a, permit_item, datalink_keys):  # noqa: F811
    return Desk(personas, project_a, permit_item)


@pytest.fixture
def forwarded(desk) -> tuple[Application, OutboxMessage]:
    """An accepted application and its message to the city, waiting to be sent."""
    app = desk.walk(S.ACCEPTED)
    return app, OutboxMessage.objects.get(message_id=app.forward_message_id)


def failure(status: int | None = 503, *, retryable: bool = True, error: str = "HTTP 503: busy") -> DeliveryOutcome:
    return DeliveryOutcome(ok=False, retryable=retryable, status=status, error=error)


def success(case_number: str = "ZZSP-2026-000001") -> DeliveryOutcome:
    return DeliveryOutcome(ok=True, retryable=False, status=200,
                           result={"case_number": case_number, "received_at": timezone.now().isoformat()})


def queue(n: int = 1) -> list[OutboxMessage]:
    return [message_enqueue(message_type="application.supplement", payload={"n": i}, subject=f"test:{i}")
            for i in range(n)]


# -- written with the business change ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_acceptance_and_its_message_commit_or_roll_back_together(desk):
    app = desk.walk(S.SUBMITTED)
    assert not transaction.get_connection().in_atomic_block  # real transactions, not a test savepoint
    log_before = MessageLogEntry.objects.count()
    head_before = LogHead.objects.get().last_seq
    with pytest.raises(RuntimeError), transaction.atomic():
        sv.application_accept(actor=desk.clerk, application=app)
        assert OutboxMessage.objects.count() == 1
        raise RuntimeError("the surrounding business change failed")
    assert not OutboxMessage.objects.exists()
    app.refresh_from_db()
    assert app.status == S.SUBMITTED and app.forward_message_id is None and app.accepted_on is None
    assert not app.events.filter(kind__in=[EventKind.ACCEPTED, EventKind.FORWARDED]).exists()
    assert MessageLogEntry.objects.count() == log_before and LogHead.objects.get().last_seq == head_before
    assert log_verify().ok
    # Committed, both are there.
    sv.application_accept(actor=desk.clerk, application=app)
    message = OutboxMessage.objects.get()
    assert Application.objects.get(pk=app.pk).forward_message_id == message.message_id
    assert MessageLogEntry.objects.filter(message_id=str(message.message_id), event="queued").count() == 1


@pytest.mark.django_db
def test_a_failed_step_after_the_message_leaves_nothing_either(desk):
    """The same inside one request: a savepoint around the accept and a later failure."""
    app = desk.walk(S.SUBMITTED)
    with pytest.raises(RuntimeError), transaction.atomic():
        sv.application_accept(actor=desk.clerk, application=app)
        raise RuntimeError
    assert not OutboxMessage.objects.exists()
    assert Application.objects.get(pk=app.pk).status == S.SUBMITTED


# -- retries -------------------------------------------------------------------------------------------


def test_backoff_is_full_jitter_up_to_the_cap(settings):
    settings.ZHIYUAN_DATALINK_BACKOFF_BASE_MS = 100
    settings.ZHIYUAN_DATALINK_BACKOFF_CAP_MS = 1000
    for attempts in range(0, 12):
        bound = min(1.0, 0.1 * 2 ** max(attempts - 1, 0))
        samples = [backoff_seconds(attempts) for _ in range(300)]
        assert all(0 <= s <= bound for s in samples), (attempts, bound, max(samples))
        # Full jitter: spread over the whole range, not a fixed delay.
        assert max(samples) > 0.8 * bound and min(samples) < 0.2 * bound, (attempts, bound)
    settings.ZHIYUAN_DATALINK_BACKOFF_BASE_MS = 0
    assert backoff_seconds(5) == 0


@pytest.mark.django_db
def test_retryable_failure_schedules_the_next_attempt(settings):
    settings.ZHIYUAN_DATALINK_BACKOFF_BASE_MS = 10_000
    (message,) = queue()
    now = dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        assert delivery_record(message=message, outcome=failure()) == OutboxStatus.PENDING
    message.refresh_from_db()
    assert message.attempts == 1 and message.locked_until is None and "503" in message.last_error
    assert now < message.next_attempt_at <= now + dt.timedelta(seconds=10)
    attempt = MessageLogEntry.objects.get(message_id=str(message.message_id), event="attempt")
    assert attempt.detail["attempt"] == 1 and attempt.detail["http_status"] == 503
    with time_machine.travel(now + dt.timedelta(minutes=1), tick=False):
        assert delivery_record(message=message, outcome=failure(None, error="ConnectError")) == "pending"
    message.refresh_from_db()
    assert message.attempts == 2 and message.last_error == "ConnectError"
    assert message.next_attempt_at <= now + dt.timedelta(minutes=1, seconds=20)


@pytest.mark.django_db
def test_a_refusal_is_dead_at_once_and_operators_are_told(personas, forwarded):
    app, message = forwarded
    outcome = failure(400, retryable=False, error='HTTP 400: {"error": {"code": "malformed"}}')
    assert delivery_record(message=message, outcome=outcome) == OutboxStatus.DEAD
    message.refresh_from_db()
    assert message.status == "dead" and message.attempts == 1 and "malformed" in message.last_error
    told = set(Notification.objects.filter(key__startswith="datalink-dead-").values_list("recipient__username",
                                                                                          flat=True))
    assert told == {personas["admin"].username, personas["window_clerk"].username}
    assert MessageLogEntry.objects.filter(message_id=str(message.message_id), event="dead").count() == 1
    # The application stays accepted: the message waits for a person.
    assert Application.objects.get(pk=app.pk).status == S.ACCEPTED


@pytest.mark.django_db
def test_dead_after_the_configured_number_of_attempts(settings, personas):
    settings.ZHIYUAN_DATALINK_MAX_ATTEMPTS = 3
    (message,) = queue()
    assert delivery_record(message=message, outcome=failure()) == "pending"
    assert delivery_record(message=message, outcome=failure()) == "pending"
    assert not Notification.objects.exists()
    assert delivery_record(message=message, outcome=failure()) == "dead"
    message.refresh_from_db()
    assert message.attempts == 3 and message.status == "dead"
    for key in ("admin", "window_clerk"):
        assert personas[key].notifications.count() == 1
    assert not personas["firm_a"].notifications.filter(title__contains="city").exists()
    # Nothing more happens to a dead letter.
    assert delivery_record(message=message, outcome=failure()) is None


@pytest.mark.django_db
def test_a_delivery_already_recorded_by_another_worker_changes_nothing(forwarded):
    app, message = forwarded
    stale_copy = OutboxMessage.objects.get(pk=message.pk)
    assert delivery_record(message=message, outcome=success()) == "delivered"
    app.refresh_from_db()
    assert app.status == S.CITY_RECEIVED
    snapshot = (OutboxMessage.objects.filter(pk=message.pk).values().get(), MessageLogEntry.objects.count(),
                app.events.count())
    # Another worker's outcome for the same message, arriving late — success or failure alike.
    assert delivery_record(message=stale_copy, outcome=success("ZZSP-2026-999999")) is None
    assert delivery_record(message=stale_copy, outcome=failure(400, retryable=False)) is None
    app.refresh_from_db()
    assert snapshot == (OutboxMessage.objects.filter(pk=message.pk).values().get(), MessageLogEntry.objects.count(),
                        app.events.count())
    assert app.city_case_number == "ZZSP-2026-000001"


@pytest.mark.django_db
def test_claim_leases_messages_until_the_lease_lapses(settings):
    settings.ZHIYUAN_DATALINK_LEASE_SECONDS = 30
    settings.ZHIYUAN_DATALINK_TIMEOUT_SECONDS = 1  # a round of 10 sends takes at most 10 × 1 s: the lease rules
    now = dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        first, second, later, done = queue(4)
        OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=now + dt.timedelta(hours=1))
        OutboxMessage.objects.filter(pk=done.pk).update(status=OutboxStatus.DELIVERED)
        assert [m.pk for m in _claim(1)] == [first.pk]
        assert [m.pk for m in _claim(10)] == [second.pk]
        assert _claim(10) == []
    first.refresh_from_db()
    assert first.locked_until == now + dt.timedelta(seconds=30)
    with time_machine.travel(now + dt.timedelta(seconds=29), tick=False):
        assert _claim(10) == []
    with time_machine.travel(now + dt.timedelta(seconds=31), tick=False):
        # The worker holding them died: the lease lapsed and another worker takes them.
        assert sorted(m.pk for m in _claim(10)) == sorted([first.pk, second.pk])
    with time_machine.travel(now + dt.timedelta(seconds=40), tick=False):
        assert _claim(10) == []
        # A message whose lease was given up (locked_until in the past) is free at once.
        OutboxMessage.objects.filter(pk=first.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
        assert [m.pk for m in _claim(10)] == [first.pk]


@pytest.mark.django_db
def test_the_lease_outlasts_the_slowest_round(settings):
    """A worker sending a batch whose every send times out still holds its messages until it is done."""
    settings.ZHIYUAN_DATALINK_LEASE_SECONDS = 30
    settings.ZHIYUAN_DATALINK_TIMEOUT_SECONDS = 10
    now = dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        queue(3)
        claimed = _claim(10, concurrency=2)  # up to 5 rounds of 10 s each
    assert len(claimed) == 3
    leases = set(OutboxMessage.objects.values_list("locked_until", flat=True))
    assert leases == {now + dt.timedelta(seconds=5 * 10 + 10)}
    with time_machine.travel(now + dt.timedelta(seconds=59), tick=False):
        assert _claim(10) == []


# -- dead letters ------------------------------------------------------------------------------------------


def _kill(message: OutboxMessage) -> OutboxMessage:
    assert delivery_record(message=message, outcome=failure(422, retryable=False, error="HTTP 422")) == "dead"
    return OutboxMessage.objects.get(pk=message.pk)


@pytest.mark.django_db
def test_message_retry_sends_a_dead_letter_again_under_the_same_id(personas, forwarded):
    _app, message = forwarded
    with pytest.raises(ConflictError):
        message_retry(actor=personas["window_clerk"], message=message)  # still pending
    message = _kill(message)
    for key in ("firm_a", "investment", "city"):
        with pytest.raises(PermissionDeniedError):
            message_retry(actor=personas[key], message=message)
    with pytest.raises(PermissionDeniedError):
        message_retry(actor=None, message=message)
    assert OutboxMessage.objects.get(pk=message.pk).status == "dead"
    retried = message_retry(actor=personas["window_clerk"], message=message)
    assert (retried.status, retried.attempts, retried.message_id) == ("pending", 0, message.message_id)
    assert retried.next_attempt_at <= timezone.now() and retried.locked_until is None
    assert MessageLogEntry.objects.filter(message_id=str(message.message_id), event="retried").count() == 1
    assert AuditEntry.objects.filter(action="datalink.message.retried", object_id=str(message.pk)).exists()
    assert [m.pk for m in _claim(10)] == [message.pk]


@pytest.mark.django_db
def test_message_correct_replaces_a_dead_letter_with_a_new_message(personas, forwarded):
    app, message = forwarded
    clerk = personas["admin"]
    new_payload = {**message.payload, "applicant": {"name": "张三", "phone": "13812341234"}}
    with pytest.raises(ConflictError):
        message_correct(actor=clerk, message=message, payload=new_payload)  # not dead
    message = _kill(message)
    with pytest.raises(PermissionDeniedError):
        message_correct(actor=personas["firm_a"], message=message, payload=new_payload)
    with pytest.raises(ValidationFailed):
        message_correct(actor=clerk, message=message, payload=["not", "an", "object"])
    replacement = message_correct(actor=clerk, message=message, payload=new_payload)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SUPERSEDED and message.replaced_by == replacement
    assert replacement.replaces == message and replacement.message_id != message.message_id
    assert (replacement.status, replacement.attempts, replacement.payload) == ("pending", 0, new_payload)
    assert (replacement.message_type, replacement.subject) == (message.message_type, message.subject)
    assert AuditEntry.objects.filter(action="datalink.message.corrected", object_id=str(message.pk)).exists()
    # The superseded letter can be neither retried nor corrected again.
    with pytest.raises(ConflictError):
        message_retry(actor=clerk, message=message)
    with pytest.raises(ConflictError):
        message_correct(actor=clerk, message=message, payload=new_payload)
    # Delivered, the corrected message acknowledges the application like the original would have.
    assert delivery_record(message=replacement, outcome=success()) == "delivered"
    app.refresh_from_db()
    assert app.status == S.CITY_RECEIVED and app.city_case_number == "ZZSP-2026-000001"
    assert log_verify().ok


# -- end to end over HTTP, against a stand-in for the city --------------------------------------------------


class StandInCity:
    """Plays the city for these unit tests: checks the district's signature with the district's public key
    and answers with a signed reply (a case number per message id, the same one for a retry). `mode`
    makes it answer 503, sign with a key the district does not know, or distrust the district's key."""

    def __init__(self):
        self.mode = "ok"
        self.cases: dict[str, str] = {}
        self.payloads: dict[str, dict] = {}
        self.posts: list[str] = []
        city = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                city.posts.append(self.path)
                if self.path != protocol.INBOUND_PATH:
                    return self.answer(404, b"{}")
                if city.mode == "503":
                    return self.answer(503, b"down for maintenance")
                public_key = (Ed25519PrivateKey.generate().public_key() if city.mode == "distrust"
                              else keys.citysim_district_public_key())
                try:
                    envelope = protocol.parse_message(body, self.headers.get(protocol.SIGNATURE_HEADER), public_key,
                                                      expected_sender="district")
                except protocol.ProtocolError as error:
                    return self.answer(error.status, error.as_body())
                duplicate = envelope.id in city.cases
                case = city.cases.setdefault(envelope.id, f"ZZSP-2026-{len(city.cases) + 1:06d}")
                city.payloads[envelope.id] = envelope.payload
                reply = protocol.build_reply(envelope.id, {"case_number": case,
                                                           "received_at": "2026-06-10T02:00:00+00:00"})
                signer = Ed25519PrivateKey.generate() if city.mode == "wrong_key" else keys.citysim_private_key()
                headers = {protocol.SIGNATURE_HEADER: protocol.sign(reply, signer)}
                if duplicate:
                    headers[protocol.DUPLICATE_HEADER] = "1"
                return self.answer(200, reply, headers)

            def answer(self, status, body, headers=None):
                self.send_response(status)
                self.send_header("Content-Type", protocol.CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def city(datalink_keys, settings, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    settings.ZHIYUAN_DATALINK_BACKOFF_BASE_MS = 0  # retries are due at once
    with StandInCity() as stand_in:
        settings.ZHIYUAN_DATALINK_CITY_URL = stand_in.url
        yield stand_in


@pytest.fixture
def adapter(city):
    return SignedHttpAdapter(base_url=city.url, timeout=5)


@pytest.mark.django_db
def test_deliver_due_forwards_the_application_and_records_the_case(city, adapter, forwarded):
    app, message = forwarded
    result = deliver_due(adapter=adapter)
    assert (result.claimed, result.delivered, result.retried, result.dead) == (1, 1, 0, 0)
    message.refresh_from_db()
    assert message.status == "delivered" and message.attempts == 1 and message.delivered_at
    assert message.reply == {"case_number": "ZZSP-2026-000001", "received_at": "2026-06-10T02:00:00+00:00"}
    # The city got exactly the queued payload, signed by the district.
    assert city.payloads == {str(message.message_id): message.payload}
    app.refresh_from_db()
    assert app.status == S.CITY_RECEIVED and app.city_case_number == "ZZSP-2026-000001"
    assert app.city_received_on == dt.date(2026, 6, 10)
    attempt = MessageLogEntry.objects.get(message_id=str(message.message_id), event="attempt")
    sent = json.loads(attempt.body)
    assert sent["id"] == str(message.message_id) and sent["payload"] == message.payload
    protocol.check_signature(attempt.body.encode(), attempt.signature, keys.district_private_key().public_key())
    assert attempt.detail["http_status"] == 200 and attempt.detail["duplicate"] is False
    assert "ZZSP-2026-000001" in attempt.detail["reply"]
    # Nothing left to send.
    assert deliver_due(adapter=adapter).claimed == 0
    assert log_verify().ok


@pytest.mark.django_db
def test_city_down_then_up(city, adapter, forwarded):
    app, message = forwarded
    city.mode = "503"
    result = deliver_due(adapter=adapter)
    assert (result.retried, result.delivered) == (1, 0)
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1 and "HTTP 503" in message.last_error
    assert Application.objects.get(pk=app.pk).status == S.ACCEPTED
    city.mode = "ok"
    assert deliver_due(adapter=adapter).delivered == 1
    message.refresh_from_db()
    assert message.status == "delivered" and message.attempts == 2 and message.last_error == ""
    assert Application.objects.get(pk=app.pk).status == S.CITY_RECEIVED


@pytest.mark.django_db
def test_an_untrusted_reply_is_no_acknowledgement(city, adapter, forwarded):
    app, message = forwarded
    city.mode = "wrong_key"
    assert deliver_due(adapter=adapter).retried == 1
    message.refresh_from_db()
    assert message.status == "pending" and "untrusted reply" in message.last_error
    assert Application.objects.get(pk=app.pk).city_case_number == ""
    # Sent again under the same id: the city answers it as a duplicate with the same case; one case only.
    city.mode = "ok"
    assert deliver_due(adapter=adapter).delivered == 1
    assert len(city.cases) == 1
    attempts = MessageLogEntry.objects.filter(message_id=str(message.message_id), event="attempt").order_by("seq")
    assert [a.detail["duplicate"] for a in attempts] == [False, True]
    assert Application.objects.get(pk=app.pk).city_case_number == "ZZSP-2026-000001"


@pytest.mark.django_db
def test_a_city_that_refuses_the_signature_dead_letters_at_once(city, adapter, forwarded):
    _app, message = forwarded
    city.mode = "distrust"
    assert deliver_due(adapter=adapter).dead == 1
    message.refresh_from_db()
    assert message.status == "dead" and "bad_signature" in message.last_error


@pytest.mark.django_db
def test_an_unreachable_city_is_retried(datalink_keys, forwarded, settings):
    settings.ZHIYUAN_DATALINK_BACKOFF_BASE_MS = 0
    with StandInCity() as stand_in:
        url = stand_in.url  # a port that was just free, closed again below
    result = deliver_due(adapter=SignedHttpAdapter(base_url=url, timeout=2))
    assert result.retried == 1
    _app, message = forwarded
    message.refresh_from_db()
    assert message.status == "pending" and "Error" in message.last_error


@pytest.mark.django_db
def test_several_messages_are_delivered_in_parallel(city, adapter, personas, project_a):  # noqa: F811
    apps = []
    for code in ("construction_permit", "project_filing", "energy_review"):
        apps.append(Desk(personas, project_a, ApprovalItem.objects.get(code=code)).walk(S.ACCEPTED))
    result = deliver_due(adapter=adapter, concurrency=4)
    assert (result.claimed, result.delivered) == (3, 3)
    numbers = {Application.objects.get(pk=a.pk).city_case_number for a in apps}
    assert numbers == set(city.cases.values()) and len(numbers) == 3
    assert all(path == protocol.INBOUND_PATH for path in city.posts)
