"""Notifications: de-duplication by key, e-mail after commit where configured, the page, mark-read
and the unread badge in the header."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from zhiyuan.core.models import Notification
from zhiyuan.core.services import notification_mark_read, notify

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ZHIYUAN_NOTIFY_BY_EMAIL = False


@pytest.fixture
def officer(personas):
    user = personas["project"]
    user.email = "xiangmu@hetang.example"
    user.save()
    return user


def titles(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("title", flat=True))


# --- notify ------------------------------------------------------------------------------------


def test_notify_creates_one_notification_per_recipient(personas):
    sent = notify(
        recipients=[personas["project"], personas["leader"]], title="节点逾期", body="主体封顶", link="/projects/1/"
    )
    assert sent == 2
    note = Notification.objects.get(recipient=personas["leader"])
    assert (note.title, note.body, note.link, note.key, note.read_at) == (
        "节点逾期",
        "主体封顶",
        "/projects/1/",
        "",
        None,
    )


def test_same_key_is_sent_once_per_recipient(personas):
    assert notify(recipients=[personas["project"]], title="第一次", key="milestone-overdue:7") == 1
    assert notify(recipients=[personas["project"]], title="第二次", key="milestone-overdue:7") == 0
    assert notify(recipients=[personas["project"], personas["leader"]], title="第三次", key="milestone-overdue:7") == 1
    assert titles(personas["project"]) == ["第一次"]
    assert titles(personas["leader"]) == ["第三次"]
    assert notify(recipients=[personas["project"]], title="其他节点", key="milestone-overdue:8") == 1


def test_without_a_key_nothing_is_deduplicated(personas):
    notify(recipients=[personas["project"]], title="提醒")
    notify(recipients=[personas["project"]], title="提醒")
    assert titles(personas["project"]) == ["提醒", "提醒"]


def test_none_and_repeated_recipients_are_skipped(personas):
    sent = notify(recipients=[None, personas["project"], None, personas["project"]], title="x", key="k")
    assert sent == 1
    assert Notification.objects.count() == 1
    assert notify(recipients=[None], title="x") == 0


def test_long_titles_are_cut_to_the_column(personas):
    notify(recipients=[personas["project"]], title="长" * 300)
    assert titles(personas["project"]) == ["长" * 200]


# --- e-mail ------------------------------------------------------------------------------------


def test_email_goes_out_after_commit_when_enabled(settings, officer, personas, django_capture_on_commit_callbacks):
    settings.ZHIYUAN_NOTIFY_BY_EMAIL = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(recipients=[officer, personas["leader"]], title="节点逾期", body="主体封顶", link="/projects/1/")
        assert mail.outbox == []  # nothing before the transaction commits
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "节点逾期"
    assert message.to == ["xiangmu@hetang.example"]  # the leader has no address
    assert "主体封顶" in message.body and "/projects/1/" in message.body


def test_no_email_when_disabled(officer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(recipients=[officer], title="节点逾期") == 1
    assert mail.outbox == []


def test_no_email_for_users_without_an_address(settings, personas, django_capture_on_commit_callbacks):
    settings.ZHIYUAN_NOTIFY_BY_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert notify(recipients=[personas["leader"]], title="节点逾期") == 1
    assert callbacks == []
    assert mail.outbox == []


def test_no_email_for_a_notification_already_sent(settings, officer, django_capture_on_commit_callbacks):
    settings.ZHIYUAN_NOTIFY_BY_EMAIL = True
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[officer], title="节点逾期", key="k")
        notify(recipients=[officer], title="节点逾期", key="k")
    assert len(mail.outbox) == 1


# --- mark read ---------------------------------------------------------------------------------


def test_mark_read_all_or_some_and_only_ones_own(personas):
    project, leader = personas["project"], personas["leader"]
    for title in ("a", "b", "c"):
        notify(recipients=[project, leader], title=title)
    own = list(Notification.objects.filter(recipient=project).order_by("id"))
    foreign = Notification.objects.filter(recipient=leader).first()
    assert notification_mark_read(actor=project, notification_ids=[own[0].pk, foreign.pk]) == 1
    assert notification_mark_read(actor=project, notification_ids=[own[0].pk]) == 0  # already read
    assert Notification.objects.filter(recipient=leader, read_at__isnull=True).count() == 3
    assert notification_mark_read(actor=project) == 2
    assert not Notification.objects.filter(recipient=project, read_at__isnull=True).exists()


# --- pages -------------------------------------------------------------------------------------


def badge(html: str) -> int:
    """The unread count shown in the header's notifications button (0 when no badge)."""
    anchor = re.search(r'<a [^>]*data-testid="notifications"[^>]*>(.*?)</a>', html, re.S)
    assert anchor, "the header has no notifications button"
    count = re.search(r'<span class="badge[^"]*">(\d+)</span>', anchor.group(1))
    return int(count.group(1)) if count else 0


def test_notification_page_lists_only_ones_own(personas, login):
    notify(recipients=[personas["project"]], title="节点逾期:主体封顶", link="/projects/5/")
    notify(recipients=[personas["leader"]], title="督办:征拆协议")
    response = login("project").get(reverse("core:notifications"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "节点逾期:主体封顶" in html
    assert 'href="/projects/5/"' in html
    assert "督办:征拆协议" not in html


def test_unread_badge_counts_and_mark_read_clears_it(personas, login):
    client = login("project")
    assert badge(client.get(reverse("core:home")).content.decode()) == 0
    for title in ("a", "b", "c"):
        notify(recipients=[personas["project"]], title=title)
    notify(recipients=[personas["leader"]], title="d")
    assert badge(client.get(reverse("core:home")).content.decode()) == 3
    first = Notification.objects.filter(recipient=personas["project"]).order_by("id").first()
    response = client.post(reverse("core:notifications_read"), {"id": [str(first.pk)]})
    assert response.status_code == 302 and response["Location"] == reverse("core:notifications")
    assert badge(client.get(reverse("core:notifications")).content.decode()) == 2
    client.post(reverse("core:notifications_read"))
    assert badge(client.get(reverse("core:notifications")).content.decode()) == 0
    assert Notification.objects.filter(recipient=personas["leader"], read_at__isnull=True).count() == 1


def test_mark_read_is_post_only_and_pages_need_login(personas, login, client):
    notify(recipients=[personas["project"]], title="a")
    assert login("project").get(reverse("core:notifications_read")).status_code == 405
    assert not Notification.objects.filter(read_at__isnull=False).exists()
    for name in ("core:notifications", "core:notifications_read"):
        response = client.post(reverse(name)) if name.endswith("read") else client.get(reverse(name))
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_firm_user_sees_own_notifications_and_badge(personas, login):
    notify(recipients=[personas["firm_a"]], title="诉求已回复")
    response = login("firm_a").get(reverse("core:notifications"))
    assert "诉求已回复" in response.content.decode()
    assert badge(response.content.decode()) == 1
