"""The district's inbound endpoint, through HTTP: the city's signed status callbacks are checked,
de-duplicated, applied once, and every rejection is logged."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from django.utils import timezone

from zhiyuan.approvals.models import Application, ApplicationEvent, ApprovalItem, EventKind
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.approvals.tests.conftest import permit_item, project_a  # noqa: F401 (fixtures)
from zhiyuan.approvals.tests.test_services import CASE, Desk, city_message
from zhiyuan.datalink import keys, protocol
from zhiyuan.datalink.models import InboundMessage, MessageLogEntry

URL = protocol.INBOUND_PATH


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def desk(personas, project_a, permit_item, datalink_keys):  # noqa: F811
    return Desk(personas, project_a, permit_item)


@pytest.fixture
def app(desk):
    """An application the city has acknowledged (case ZZSP-2026-000001)."""
    return desk.walk(S.CITY_RECEIVED)


def post(message: dict | None = None, *, body: bytes | None = None, signature: str | None = None, **headers):
    """POST to the endpoint as the city does (a fresh client: no session, no CSRF token)."""
    if message is not None:
        body, signature = message["body"], message["signature"]
    if signature is not None:
        headers["HTTP_X_ZHIYUAN_SIGNATURE"] = signature
    return Client(enforce_csrf_checks=True).post(URL, data=body, content_type="application/json", **headers)


def rejections() -> list[MessageLogEntry]:
    return list(MessageLogEntry.objects.filter(event="rejected").order_by("seq"))


def error_of(response) -> dict:
    return json.loads(response.content)["error"]


def assert_rejected(response, status: int, code: str, *, message_id: str = "") -> None:
    assert response.status_code == status, response.content
    assert error_of(response)["code"] == code
    entry = rejections()[-1]
    assert entry.direction == "in" and entry.detail["code"] == code and entry.detail["http_status"] == status
    assert entry.detail["reason"] == error_of(response)["message"]
    assert entry.message_id == message_id
    assert entry.body  # the rejected message itself is kept for the record


@pytest.mark.django_db
def test_a_signed_callback_is_applied_and_answered_with_a_signed_reply(app):
    message = city_message(app.number, "in_review", version=1)
    message_id = json.loads(message["body"])["id"]
    response = post(message, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == protocol.CONTENT_TYPE
    assert protocol.DUPLICATE_HEADER not in response
    # The reply is the district's: signed with its private key, for this message.
    result = protocol.parse_reply(response.content, response[protocol.SIGNATURE_HEADER],
                                  keys.district_private_key().public_key(), message_id=message_id)
    assert result == {"applied": True}
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_reply(response.content, response[protocol.SIGNATURE_HEADER],
                             keys.citysim_private_key().public_key(), message_id=message_id)
    app.refresh_from_db()
    assert app.status == S.IN_REVIEW and app.city_version == 1
    event = app.events.get(kind=EventKind.CITY_STATUS)
    assert event.message_id == message_id
    received = MessageLogEntry.objects.get(event="received")
    assert received.message_id == message_id and received.body == message["body"].decode()
    assert received.signature == message["signature"] and received.detail["remote_addr"] == "10.1.2.3"
    assert InboundMessage.objects.get().fingerprint == protocol.message_fingerprint(
        message_id, "case.status", "city", json.loads(message["body"])["payload"]
    )


@pytest.mark.django_db
def test_unsigned_is_401_and_logged(app):
    message = city_message(app.number, "granted", version=1)
    response = post(body=message["body"])
    assert_rejected(response, 401, "unsigned")
    assert protocol.SIGNATURE_HEADER not in response
    app.refresh_from_db()
    assert app.status == S.CITY_RECEIVED and not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_wrong_key_is_401_and_logged(app):
    forged = city_message(app.number, "granted", version=1, private_key=Ed25519PrivateKey.generate())
    assert_rejected(post(forged), 401, "bad_signature")
    # The district's own key is not the city's either.
    own = city_message(app.number, "granted", version=1, private_key=keys.district_private_key())
    assert_rejected(post(own), 401, "bad_signature")
    assert_rejected(post(body=forged["body"], signature="%%%"), 401, "bad_signature")
    app.refresh_from_db()
    assert app.status == S.CITY_RECEIVED and not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_tampered_body_is_401(app):
    message = city_message(app.number, "denied", version=1)
    tampered = message["body"].replace(b'"denied"', b'"granted"')
    assert_rejected(post(body=tampered, signature=message["signature"]), 401, "bad_signature")
    assert Application.objects.get(pk=app.pk).status == S.CITY_RECEIVED


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [-600, 600])
def test_too_old_or_too_far_ahead_is_401(app, settings, offset):
    settings.ZHIYUAN_DATALINK_MAX_SKEW_SECONDS = 300
    stale = city_message(app.number, "granted", version=1,
                         sent_at=timezone.now() + dt.timedelta(seconds=offset))
    assert_rejected(post(stale), 401, "expired")
    assert Application.objects.get(pk=app.pk).status == S.CITY_RECEIVED


@pytest.mark.django_db
def test_malformed_and_unsupported_messages_are_400(app):
    city = keys.citysim_private_key()
    body = b'{"not": "an envelope"}'
    assert_rejected(post(body=body, signature=protocol.sign(body, city)), 400, "malformed")
    # A well-formed message of a type the district does not accept from the city.
    message_id = protocol.new_message_id()
    body = protocol.build_body(message_id=message_id, message_type="application.submit", sender="city", payload={})
    assert_rejected(post(body=body, signature=protocol.sign(body, city)), 400, "unsupported", message_id=message_id)
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_only_post(app):
    assert Client().get(URL).status_code == 405


@pytest.mark.django_db
def test_replay_with_other_content_is_409(app):
    message_id = protocol.new_message_id()
    first = city_message(app.number, "in_review", version=1, message_id=message_id)
    assert post(first).status_code == 200
    replay = city_message(app.number, "granted", version=2, message_id=message_id, certificate_number="FAKE")
    assert_rejected(post(replay), 409, "replayed", message_id=message_id)
    app.refresh_from_db()
    assert app.status == S.IN_REVIEW and app.certificate_number == ""
    assert InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_gets_the_original_reply_and_no_second_effect(app):
    message_id = protocol.new_message_id()
    first = city_message(app.number, "in_review", version=1, message_id=message_id)
    original = post(first)
    assert original.status_code == 200
    # A retry: same id and payload, sent later (fresh sent_at and signature).
    payload = json.loads(first["body"])["payload"]
    body = protocol.build_body(message_id=message_id, message_type="case.status", sender="city", payload=payload,
                               sent_at=timezone.now() + dt.timedelta(seconds=30))
    assert body != first["body"]
    again = post(body=body, signature=protocol.sign(body, keys.citysim_private_key()))
    assert again.status_code == 200
    assert again.content == original.content
    assert again[protocol.DUPLICATE_HEADER] == "1"
    assert protocol.parse_reply(again.content, again[protocol.SIGNATURE_HEADER],
                                keys.district_private_key().public_key(), message_id=message_id) == {"applied": True}
    assert InboundMessage.objects.count() == 1
    assert ApplicationEvent.objects.filter(message_id=message_id).count() == 1
    assert MessageLogEntry.objects.filter(message_id=message_id, event="duplicate").count() == 1
    app.refresh_from_db()
    assert app.city_version == 1


@pytest.mark.django_db
def test_unknown_application_is_404_not_recorded_and_a_later_retry_succeeds(app):
    real_number = app.number
    # The application is not there (yet): hide it under another number.
    Application.objects.filter(pk=app.pk).update(number="HT-NOT-YET")
    message_id = protocol.new_message_id()
    payload_message = city_message(real_number, "in_review", version=1, message_id=message_id)
    assert_rejected(post(payload_message), 404, "unknown_application", message_id=message_id)
    assert not InboundMessage.objects.exists()
    assert not app.events.filter(kind=EventKind.CITY_STATUS).exists()
    # Once it exists the city's retry (same id and content) is accepted as a first delivery.
    Application.objects.filter(pk=app.pk).update(number=real_number)
    payload = json.loads(payload_message["body"])["payload"]
    body = protocol.build_body(message_id=message_id, message_type="case.status", sender="city", payload=payload)
    response = post(body=body, signature=protocol.sign(body, keys.citysim_private_key()))
    assert response.status_code == 200 and protocol.DUPLICATE_HEADER not in response
    app.refresh_from_db()
    assert app.status == S.IN_REVIEW and InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_late_in_review_never_overwrites_granted(app):
    granted = city_message(app.number, "granted", version=3, certificate_number="430202-C-1",
                           certificate_date="2026-06-10")
    response = post(granted)
    assert response.status_code == 200 and json.loads(response.content)["result"]["applied"] is True
    late_id = protocol.new_message_id()
    late = city_message(app.number, "in_review", version=2, message_id=late_id)
    response = post(late)
    assert response.status_code == 200
    assert json.loads(response.content)["result"]["applied"] is False
    app.refresh_from_db()
    assert app.status == S.GRANTED and app.city_version == 3 and app.certificate_number == "430202-C-1"
    stale = app.events.get(kind=EventKind.STALE_UPDATE)
    assert stale.message_id == late_id and stale.data["version"] == 2 and stale.data["applied_version"] == 3
    # Recorded (so a retry gets the same answer), but not applied.
    assert InboundMessage.objects.filter(message_id=late_id).exists()


@pytest.mark.django_db
def test_an_older_version_is_ignored_while_the_case_is_open(app):
    assert post(city_message(app.number, "returned", version=5, reason="缺图纸")).status_code == 200
    response = post(city_message(app.number, "in_review", version=4))
    assert json.loads(response.content)["result"]["applied"] is False
    response = post(city_message(app.number, "in_review", version=5))
    assert json.loads(response.content)["result"]["applied"] is False
    app.refresh_from_db()
    assert app.status == S.RETURNED and app.city_version == 5 and app.city_reason == "缺图纸"


@pytest.mark.django_db
def test_callback_for_another_case_or_an_unforwarded_application_is_409(personas, desk, app):
    other_case = city_message(app.number, "granted", version=1, case_number="ZZSP-2026-777777")
    assert_rejected(post(other_case), 409, "conflict", message_id=json.loads(other_case["body"])["id"])
    assert Application.objects.get(pk=app.pk).status == S.CITY_RECEIVED
    # Another item of the same project, still a draft.
    draft = Desk(personas, desk.project, ApprovalItem.objects.get(code="project_filing")).create()
    message = city_message(draft.number, "granted", version=1)
    assert_rejected(post(message), 409, "conflict", message_id=json.loads(message["body"])["id"])
    assert Application.objects.get(pk=draft.pk).status == S.DRAFT and not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_every_rejection_is_in_the_message_log(app, settings):
    city = keys.citysim_private_key()
    good = city_message(app.number, "in_review", version=1)
    cases = [
        (post(body=good["body"]), "unsigned"),
        (post(body=good["body"], signature=protocol.sign(good["body"], Ed25519PrivateKey.generate())),
         "bad_signature"),
        (post(city_message(app.number, "in_review", version=1,
                           sent_at=timezone.now() - dt.timedelta(hours=1))), "expired"),
        (post(body=b"[]", signature=protocol.sign(b"[]", city)), "malformed"),
        (post(city_message("HT-NOBODY", "in_review", version=1)), "unknown_application"),
        (post(city_message(app.number, "in_review", version=1, case_number="ZZSP-X")), "conflict"),
    ]
    assert post(good).status_code == 200
    replay = city_message(app.number, "denied", version=2, message_id=json.loads(good["body"])["id"])
    cases.append((post(replay), "replayed"))
    logged = rejections()
    assert [entry.detail["code"] for entry in logged] == [code for _, code in cases]
    for (response, code), entry in zip(cases, logged, strict=True):
        assert 400 <= response.status_code < 500 and error_of(response)["code"] == code
        assert entry.detail["reason"] and entry.detail["http_status"] == response.status_code
    assert InboundMessage.objects.count() == 1
    # CASE is still the application's case.
    app.refresh_from_db()
    assert app.city_case_number == CASE and app.status == S.IN_REVIEW
