"""End to end over real HTTP: the district (pytest-django's live server) and a real `zhiyuan citysim` process.

The test submits and accepts applications through the services, then delivers the outbox by calling the
worker's own function (datalink.services.deliver_due) until the district shows what the city decided; the
city's status callbacks arrive signed at the live server's /datalink/inbound/. No mocks.

The live server runs in a thread of this process. On PostgreSQL it has its own connection. On SQLite the
test database is in memory and the server thread shares the test thread's connection object: callbacks
arriving while the test delivers failed with "database table is locked", so the `district` fixture then
serialises the server's requests and the test's database work on one lock (on PostgreSQL the lock is a
no-op).
"""

import contextlib
import threading
import time

import pytest
from django.db import connection, connections

from zhiyuan.approvals import services as sv
from zhiyuan.approvals.models import Application
from zhiyuan.approvals.models import ApplicationStatus as S
from zhiyuan.approvals.tests.conftest import pdf
from zhiyuan.citysim.testing import CitySimProcess
from zhiyuan.datalink.adapters import city_adapter
from zhiyuan.datalink.log import log_verify
from zhiyuan.datalink.models import OutboxMessage, OutboxStatus
from zhiyuan.datalink.services import deliver_due

# The live server thread commits, so the test needs real transactions; the rows the data migrations load
# (the approval items) are restored after each flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = 30
AUTO_REVIEW = ("--review-after", "0.2", "--decide-after", "0.4", "--deny-rate", "0", "--seed", "1")


class District:
    """The district side of a test: the live server's URL and the lock guarding the shared SQLite connection."""

    def __init__(self, url: str, lock):
        self.url = url
        self.lock = lock


@pytest.fixture
def district(live_server, settings, datalink_keys):
    """The live server, with fast retries. On in-memory SQLite its requests take `district.lock`; on other
    databases its thread closes its connection after each request (a connection left open would make
    PostgreSQL wait before dropping the test database)."""
    settings.ZHIYUAN_DATALINK_BACKOFF_BASE_MS = 100
    settings.ZHIYUAN_DATALINK_BACKOFF_CAP_MS = 1000
    settings.ZHIYUAN_DATALINK_TIMEOUT_SECONDS = 5
    shared = connection.vendor == "sqlite" and connection.is_in_memory_db()
    lock = threading.RLock() if shared else contextlib.nullcontext()
    httpd = live_server.thread.httpd
    app = httpd.get_app()

    def serve(environ, start_response):
        with lock:
            try:
                response = app(environ, start_response)
                try:
                    body = b"".join(response)
                finally:
                    if hasattr(response, "close"):
                        response.close()
            finally:
                if not shared:
                    connections.close_all()
        return [body]

    httpd.set_app(serve)
    try:
        yield District(live_server.url, lock)
    finally:
        httpd.set_app(app)


@pytest.fixture
def start_city(district, datalink_keys, tmp_path, settings):
    """start_city(*args) → a running citysim calling back the live server; the district delivers to it.
    Every process started is killed at the end of the test."""
    processes: list[CitySimProcess] = []

    def start(*args: str) -> CitySimProcess:
        workdir = tmp_path / f"citysim-{len(processes)}"
        city = CitySimProcess(
            workdir, datalink_keys, workdir / "citysim.sqlite3", ("--district-url", district.url, *args)
        ).start()
        processes.append(city)
        settings.ZHIYUAN_DATALINK_CITY_URL = city.url
        city_adapter.cache_clear()
        return city

    try:
        yield start
    finally:
        for city in processes:
            city.kill()
        city_adapter.cache_clear()


def accepted_application(personas, item, project) -> Application:
    """Create, fill, submit and accept an application through the services (it is then in the outbox)."""
    firm, clerk = personas["firm_a"], personas["window_clerk"]
    application = sv.application_create(
        actor=firm, item=item, project=project, contact_name="张三", contact_phone="13812341234"
    )
    for requirement in item.materials.filter(required=True):
        sv.material_add(actor=firm, application=application, requirement=requirement,
                        uploaded_file=pdf(f"{requirement.pk}.pdf"))
    application = sv.application_submit(actor=firm, application=application)
    return sv.application_accept(actor=clerk, application=application)


def more_projects(project, count: int) -> list:
    """`count` more projects of the same firm (one open application per project and item)."""
    projects = []
    for n in range(count):
        clone = type(project).objects.get(pk=project.pk)
        clone.pk = None
        clone.code = f"2019-430202-34-03-{n + 100:06d}"
        clone.name = f"{project.name}（{n + 2}期）"
        clone.save()
        projects.append(clone)
    return projects


def diagnostics(city: CitySimProcess | None, numbers: list[str]) -> str:
    rows = Application.objects.filter(number__in=numbers).order_by("pk")
    lines = [f"{a.number}: {a.status} case={a.city_case_number or '-'} v{a.city_version}" for a in rows]
    for m in OutboxMessage.objects.order_by("pk"):
        lines.append(f"outbox {m.message_type} {m.status} attempts={m.attempts} error={m.last_error[:200]!r}")
    if city is not None:
        try:
            lines.append(f"citysim /stats: {city.stats()}")
        except Exception as error:  # noqa: BLE001 - a diagnostic must not hide the failure it describes
            lines.append(f"citysim /stats unavailable: {error}")
        lines.append(f"citysim stderr: {city.output(1500)}")
    return "\n".join(lines)


def drive(district: District, city: CitySimProcess | None, numbers: list[str], status: str,
          timeout: float = TIMEOUT) -> None:
    """Deliver the outbox (the worker's function) until every application in `numbers` shows `status`."""
    deadline = time.monotonic() + timeout
    while True:
        with district.lock:
            deliver_due()
            statuses = dict(Application.objects.filter(number__in=numbers).values_list("number", "status"))
            if all(statuses.get(number) == status for number in numbers):
                return
            if time.monotonic() > deadline:
                pytest.fail(f"not all {status} after {timeout} s:\n{diagnostics(city, numbers)}")
        time.sleep(0.05)


def assert_log_verifies(district: District, city: CitySimProcess) -> None:
    """The message log verifies, once the city has no callback left to send (log_verify reads a log that
    nothing appends to)."""
    deadline = time.monotonic() + 10
    while (stats := city.stats())["callbacks_pending"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stats["callbacks_pending"] == 0 and stats["callbacks_failed"] == 0, stats
    with district.lock:
        report = log_verify()
    assert report.ok, report.problems


def test_an_accepted_application_is_granted_by_the_city(district, start_city, personas, project_a, permit_item):
    city = start_city(*AUTO_REVIEW, "--return-rate", "0")
    with district.lock:
        application = accepted_application(personas, permit_item, project_a)
        assert application.status == S.ACCEPTED
        assert OutboxMessage.objects.get().status == OutboxStatus.PENDING

    drive(district, city, [application.number], S.GRANTED)

    with district.lock:
        application.refresh_from_db()
        message = OutboxMessage.objects.get()
    assert application.city_case_number.startswith("ZZSP-")
    assert application.city_received_on and application.decision == "granted"
    assert application.certificate_number.startswith("ZZ-construction_permit-")
    assert message.status == OutboxStatus.DELIVERED and message.reply["case_number"] == application.city_case_number
    stats = city.stats()
    assert (stats["cases"], stats["duplicate_effects"], stats["cases_by_status"]) == (1, 0, {"granted": 1})
    assert_log_verifies(district, city)


def test_every_application_is_granted_once_through_a_city_failing_three_times_in_ten(
    district, start_city, personas, project_a, permit_item
):
    city = start_city(*AUTO_REVIEW, "--return-rate", "0", "--error-rate", "0.3")
    with district.lock:
        numbers = [
            accepted_application(personas, permit_item, project).number
            for project in [project_a, *more_projects(project_a, 4)]
        ]

    drive(district, city, numbers, S.GRANTED)

    stats = city.stats()
    assert (stats["cases"], stats["duplicate_effects"]) == (5, 0), stats
    assert stats["cases_by_status"] == {"granted": 5}
    with district.lock:
        outbox = list(OutboxMessage.objects.values_list("status", "attempts"))
    assert all(status == OutboxStatus.DELIVERED for status, _ in outbox)
    assert sum(attempts for _, attempts in outbox) > 5  # some were refused (503) and sent again
    assert_log_verifies(district, city)


def test_a_city_killed_and_restarted_midway_loses_and_repeats_nothing(
    district, start_city, personas, project_a, permit_item
):
    city = start_city(*AUTO_REVIEW, "--return-rate", "0")
    with district.lock:
        projects = [project_a, *more_projects(project_a, 3)]
        first = [accepted_application(personas, permit_item, project).number for project in projects[:2]]
    deadline = time.monotonic() + TIMEOUT
    while True:
        with district.lock:
            deliver_due()
            if OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED).count() == 2:
                break
            assert time.monotonic() < deadline, diagnostics(city, first)
        time.sleep(0.05)

    # The city has the first two (and is about to review them); it crashes, two more are accepted meanwhile.
    city.kill()
    with district.lock:
        second = [accepted_application(personas, permit_item, project).number for project in projects[2:]]
        round_while_down = deliver_due()
    assert (round_while_down.claimed, round_while_down.delivered, round_while_down.retried) == (2, 0, 2)
    city.start()  # the same port and database

    drive(district, city, first + second, S.GRANTED)

    stats = city.stats()
    assert (stats["cases"], stats["effects"], stats["duplicate_effects"]) == (4, 4, 0), stats
    assert stats["cases_by_status"] == {"granted": 4}
    assert_log_verifies(district, city)


def test_a_returned_application_is_supplemented_and_then_granted(
    district, start_city, personas, project_a, permit_item
):
    city = start_city(*AUTO_REVIEW, "--return-rate", "1.0")
    with district.lock:
        application = accepted_application(personas, permit_item, project_a)

    drive(district, city, [application.number], S.RETURNED)

    with district.lock:
        application.refresh_from_db()
        assert application.city_reason
        sv.material_add(actor=personas["firm_a"], application=application, requirement=None,
                        uploaded_file=pdf("可行性研究报告.pdf"))
        sv.application_supplement_forward(actor=personas["window_clerk"], application=application, note="已补充")

    drive(district, city, [application.number], S.GRANTED)

    with district.lock:
        application.refresh_from_db()
        outbox = sorted(OutboxMessage.objects.values_list("message_type", "status"))
    assert outbox == [("application.submit", "delivered"), ("application.supplement", "delivered")]
    assert application.decision == "granted" and application.certificate_number
    stats = city.stats()
    assert (stats["cases"], stats["effects"], stats["duplicate_effects"]) == (1, 2, 0), stats
    assert stats["cases_by_status"] == {"granted": 1}
    assert_log_verifies(district, city)
