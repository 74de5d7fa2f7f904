"""The data link's staff pages: who sees them, the dead-letter actions, the message log and its
verification, and the read-only admin."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from zhiyuan.core.models import AuditEntry
from zhiyuan.datalink.adapters import DeliveryOutcome
from zhiyuan.datalink.log import log_append
from zhiyuan.datalink.models import LogDirection, LogEvent, MessageLogEntry, OutboxMessage, OutboxStatus
from zhiyuan.datalink.services import delivery_record, message_enqueue

pytestmark = pytest.mark.django_db

PAYLOAD = {"application_number": "SP-2026-000001", "item": "construction_permit", "project_code": "2019-430202"}


def dead_letter(subject: str = "approvals.application:7", payload: dict | None = None) -> OutboxMessage:
    """A message the worker gave up on (as after ZHIYUAN_DATALINK_MAX_ATTEMPTS failures)."""
    message = message_enqueue(message_type="application.submit", payload=payload or PAYLOAD, subject=subject)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.DEAD, attempts=12, last_error="HTTP 422: the city refused the payload"
    )
    message.refresh_from_db()
    return message


def message_url(message: OutboxMessage) -> str:
    return reverse("datalink:message", args=[message.pk])


# ---------------------------------------------------------------- who may see and act


@pytest.mark.parametrize("key", ["window_clerk", "admin", "leader"])
def test_operators_and_leaders_see_the_pages(login, key):
    message = dead_letter()
    client = login(key)
    for url in (reverse("datalink:index"), message_url(message), reverse("datalink:log")):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("key", ["firm_a", "bank", "city", "investment", "statistics"])
def test_the_pages_do_not_exist_for_anyone_else(login, key):
    message = dead_letter()
    client = login(key)
    for url in (reverse("datalink:index"), message_url(message), reverse("datalink:log")):
        assert client.get(url).status_code == 404, url
    for url in (reverse("datalink:retry", args=[message.pk]), reverse("datalink:correct", args=[message.pk]),
                reverse("datalink:verify")):
        assert client.post(url, {"payload": "{}"}).status_code == 404, url
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("datalink:index"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("key", ["window_clerk", "admin"])
def test_operators_get_the_dead_letter_actions(login, key):
    html = login(key).get(message_url(dead_letter())).content.decode()
    assert 'data-testid="retry-form"' in html and 'data-testid="correct-form"' in html


def test_a_leader_sees_a_dead_letter_but_cannot_act_on_it(login):
    message = dead_letter()
    client = login("leader")
    html = client.get(message_url(message)).content.decode()
    assert 'data-testid="retry-form"' not in html and 'data-testid="correct-form"' not in html
    assert client.post(reverse("datalink:retry", args=[message.pk])).status_code == 403
    assert client.post(reverse("datalink:correct", args=[message.pk]), {"payload": "{}"}).status_code == 403
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD and not OutboxMessage.objects.exclude(pk=message.pk).exists()


def test_the_actions_are_only_offered_on_dead_letters(login):
    pending = message_enqueue(message_type="application.submit", payload=PAYLOAD, subject="approvals.application:1")
    html = login("window_clerk").get(message_url(pending)).content.decode()
    assert 'data-testid="retry-form"' not in html and 'data-testid="correct-form"' not in html


def test_the_nav_shows_the_data_link_to_those_who_may_see_it(login):
    link = f'href="{reverse("datalink:index")}"'
    for key in ("window_clerk", "admin", "leader"):
        assert link in login(key).get(reverse("core:home")).content.decode(), key
    for key in ("investment", "firm_a", "bank"):
        assert link not in login(key).get(reverse("core:home")).content.decode(), key


# ---------------------------------------------------------------- the overview page


def test_index_shows_health_and_puts_the_dead_letters_first(login):
    dead = dead_letter(subject="approvals.application:7")
    message_enqueue(message_type="application.submit", payload=PAYLOAD, subject="approvals.application:8")
    log_append(direction=LogDirection.IN, event=LogEvent.REJECTED, detail={"code": "bad_signature"})
    response = login("window_clerk").get(reverse("datalink:index"))
    html = response.content.decode()
    health = response.context["health"]
    assert (health.pending, health.dead, health.rejected_24h, health.delivered_today) == (1, 1, 1, 0)
    assert health.oldest_pending_at is not None and health.last_delivered_at is None
    assert [name for name, _label, _count in response.context["tabs"]][0] == "dead"
    assert response.context["status"] == "dead"
    assert list(response.context["page"]) == [dead]
    assert f'href="{reverse("approvals:detail", args=[7])}"' in html
    assert "HTTP 422" in html and f'href="{message_url(dead)}"' in html


def test_without_dead_letters_the_pending_tab_comes_first(login):
    pending = message_enqueue(message_type="application.submit", payload=PAYLOAD, subject="other:1")
    response = login("leader").get(reverse("datalink:index"))
    assert response.context["status"] == "pending"
    assert [name for name, _label, _count in response.context["tabs"]][-1] == "dead"
    assert list(response.context["page"]) == [pending]
    delivered = login("leader").get(reverse("datalink:index"), {"status": "delivered"})
    assert list(delivered.context["page"]) == []


def test_the_outbox_list_is_paginated_and_keeps_its_tab(login):
    for n in range(30):
        message_enqueue(message_type="application.submit", payload={"n": n}, subject=f"x:{n}")
    client = login("window_clerk")
    first = client.get(reverse("datalink:index"), {"status": "pending"})
    assert len(first.context["page"]) == 25
    assert "?status=pending&amp;page=2" in first.content.decode()
    second = client.get(reverse("datalink:index"), {"status": "pending", "page": 2})
    assert len(second.context["page"]) == 5


# ---------------------------------------------------------------- the message page and its actions


def test_the_message_page_shows_the_message_and_its_log(login):
    message = dead_letter()
    html = login("window_clerk").get(message_url(message)).content.decode()
    assert str(message.message_id) in html
    assert "HTTP 422" in html
    assert "SP-2026-000001" in html  # the payload, pretty-printed
    assert html.count('data-testid="log-entry"') == 1  # queued
    assert 'data-event="queued"' in html


def test_the_message_page_shows_each_attempt_with_its_http_status_duration_and_content(login, settings):
    settings.ZHIYUAN_DATALINK_MAX_ATTEMPTS = 2
    message = message_enqueue(message_type="application.submit", payload=PAYLOAD, subject="approvals.application:3")
    for _attempt in range(2):
        delivery_record(message=message, outcome=DeliveryOutcome(
            ok=False, retryable=True, status=503, error="HTTP 503 from the city", duration_ms=1234,
            request_headers={"X-Zhiyuan-Signature": "c2lnbmF0dXJl"}, request_body='{"id": "abc"}',
            signature="c2lnbmF0dXJl", reply_body="busy",
        ))
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD
    response = login("window_clerk").get(message_url(message))
    html = response.content.decode()
    assert [entry.event for entry in response.context["entries"]] == ["queued", "attempt", "attempt", "dead"]
    assert "503" in html and "1234 ms" in html and "HTTP 503 from the city" in html
    assert "<details>" in html and "c2lnbmF0dXJl" in html and "&quot;abc&quot;" in html
    assert 'data-testid="retry-form"' in html


def test_send_again_puts_a_dead_letter_back_in_the_queue(login, personas):
    message = dead_letter()
    client = login("window_clerk")
    response = client.post(reverse("datalink:retry", args=[message.pk]), follow=True)
    assert response.redirect_chain == [(message_url(message), 302)]
    assert [m.level_tag for m in response.context["messages"]] == ["success"]
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert MessageLogEntry.objects.filter(message_id=str(message.message_id), event=LogEvent.RETRIED).exists()
    assert AuditEntry.objects.filter(action="datalink.message.retried", object_id=str(message.pk)).exists()
    # Sending again twice: the second is refused with a message, nothing changes.
    again = client.post(reverse("datalink:retry", args=[message.pk]), follow=True)
    assert [m.level_tag for m in again.context["messages"]] == ["error"]
    assert MessageLogEntry.objects.filter(message_id=str(message.message_id), event=LogEvent.RETRIED).count() == 1


def test_correct_sends_the_edited_payload_as_a_new_message(login):
    message = dead_letter()
    corrected = {**PAYLOAD, "project_code": "2019-430202-34-03-012345"}
    response = login("admin").post(
        reverse("datalink:correct", args=[message.pk]), {"payload": json.dumps(corrected, ensure_ascii=False)}
    )
    replacement = OutboxMessage.objects.get(replaces=message)
    assert response.status_code == 302 and response["Location"] == message_url(replacement)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SUPERSEDED
    assert replacement.status == OutboxStatus.PENDING and replacement.payload == corrected
    assert replacement.message_id != message.message_id and replacement.subject == message.subject
    old_page = login("admin").get(message_url(message)).content.decode()
    assert 'data-testid="replaced-by"' in old_page and str(replacement.message_id) in old_page
    new_page = login("admin").get(message_url(replacement)).content.decode()
    assert 'data-testid="replaces"' in new_page and str(message.message_id) in new_page


@pytest.mark.parametrize("text", ["{\"application_number\": ", "not json at all", ""])
def test_invalid_json_is_refused_on_the_payload_field_and_changes_nothing(login, text):
    message = dead_letter()
    log_count, outbox_count = MessageLogEntry.objects.count(), OutboxMessage.objects.count()
    response = login("window_clerk").post(reverse("datalink:correct", args=[message.pk]), {"payload": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="payload"' in html
    assert response.context["correct_form"].errors["payload"]
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD and message.payload == PAYLOAD
    assert (MessageLogEntry.objects.count(), OutboxMessage.objects.count()) == (log_count, outbox_count)


def test_a_payload_that_is_not_an_object_is_refused_on_the_payload_field(login):
    message = dead_letter()
    response = login("window_clerk").post(reverse("datalink:correct", args=[message.pk]), {"payload": "[1, 2]"})
    assert response.status_code == 400
    assert 'data-field="payload"' in response.content.decode()
    message.refresh_from_db()
    assert message.status == OutboxStatus.DEAD and OutboxMessage.objects.count() == 1


def test_a_missing_message_is_404(login):
    assert login("window_clerk").get(reverse("datalink:message", args=[999999])).status_code == 404


# ---------------------------------------------------------------- the message log


def test_the_log_page_lists_entries_newest_first_and_filters_them(login):
    first = dead_letter()
    second = message_enqueue(message_type="application.supplement", payload={"n": 2}, subject="x:2")
    log_append(direction=LogDirection.IN, event=LogEvent.REJECTED, detail={"reason": "bad signature"})
    client = login("leader")
    response = client.get(reverse("datalink:log"))
    seqs = [entry.seq for entry in response.context["page"]]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 3
    html = response.content.decode()
    assert str(first.message_id) in html and str(second.message_id) in html and "bad signature" in html
    only_in = client.get(reverse("datalink:log"), {"direction": "in"})
    assert [entry.event for entry in only_in.context["page"]] == [LogEvent.REJECTED]
    queued = client.get(reverse("datalink:log"), {"event": "queued", "message_id": str(second.message_id)[:13]})
    assert [entry.message_id for entry in queued.context["page"]] == [str(second.message_id)]
    assert 'data-testid="verify-form"' not in html  # only the admin verifies


def test_the_admin_verifies_the_chain_and_sees_ok(login):
    dead_letter()
    message_enqueue(message_type="application.submit", payload={"n": 2}, subject="x:2")
    client = login("admin")
    assert 'data-testid="verify-form"' in client.get(reverse("datalink:log")).content.decode()
    response = client.post(reverse("datalink:verify"))
    assert response.status_code == 200
    verification = response.context["verification"]
    assert verification.ok and verification.entries == 2
    html = response.content.decode()
    assert 'data-testid="verify-result" data-ok="1"' in html


def test_verification_reports_a_tampered_entry(login):
    dead_letter()
    message_enqueue(message_type="application.submit", payload={"n": 2}, subject="x:2")
    MessageLogEntry.objects.filter(seq=1).update(body='{"application_number": "SP-FORGED"}')
    client = login("admin")
    client.cookies["django_language"] = "en"  # the problems are translated; match the English wording
    response = client.post(reverse("datalink:verify"))
    verification = response.context["verification"]
    assert not verification.ok
    html = response.content.decode()
    assert 'data-testid="verify-result" data-ok="0"' in html
    assert "Entry #1 edited" in html


def test_only_the_admin_may_verify(login):
    assert login("window_clerk").post(reverse("datalink:verify")).status_code == 403
    assert login("leader").post(reverse("datalink:verify")).status_code == 403


# ---------------------------------------------------------------- the admin site is read-only


@pytest.mark.parametrize("model", ["outboxmessage", "inboundmessage", "messagelogentry"])
def test_the_admin_shows_the_data_link_read_only(login, model):
    message = dead_letter()
    obj_pk = message.pk if model == "outboxmessage" else MessageLogEntry.objects.first().pk
    client = login("admin")
    assert client.get(reverse(f"admin:datalink_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:datalink_{model}_add")).status_code == 403
    if model != "inboundmessage":
        change_url = reverse(f"admin:datalink_{model}_change", args=[obj_pk])
        page = client.get(change_url)
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert client.post(change_url, {"body": "forged"}).status_code == 403
        assert client.post(reverse(f"admin:datalink_{model}_delete", args=[obj_pk]), {"post": "yes"}).status_code == 403
    entry = MessageLogEntry.objects.get(seq=1)
    assert entry.body and "forged" not in entry.body
    assert OutboxMessage.objects.filter(pk=message.pk).exists()
