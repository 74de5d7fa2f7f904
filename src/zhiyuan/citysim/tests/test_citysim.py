"""citysim over real HTTP: a real `zhiyuan citysim` process on a free port, driven with signed messages."""

import datetime as dt
import http.server
import os
import re
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from django.utils import timezone

from zhiyuan.citysim.testing import CitySimProcess
from zhiyuan.datalink import protocol
from zhiyuan.datalink.keys import write_keypair


@pytest.fixture(scope="module")
def keyring(tmp_path_factory):
    """Both key pairs in a temporary key directory, and the keys the test plays the district with."""
    keydir = tmp_path_factory.mktemp("keys")
    write_keypair(keydir, "district")
    write_keypair(keydir, "city")
    return SimpleNamespace(
        dir=keydir,
        district_private=protocol.load_private_key((keydir / "district.key").read_bytes()),
        city_public=protocol.load_public_key((keydir / "city.pub").read_bytes()),
    )


@pytest.fixture(scope="module")
def start_citysim(keyring, tmp_path_factory, request):
    """Start citysim processes (killed when the module ends); `db` lets a restart reuse a database."""
    processes = []

    def start(*args: str, db: Path | None = None) -> CitySimProcess:
        workdir = tmp_path_factory.mktemp("citysim")
        process = CitySimProcess(workdir, keyring.dir, db or workdir / "citysim.sqlite3", args)
        processes.append(process)
        return process.start()

    def stop_all():
        for process in processes:
            process.stop(signal.SIGKILL)

    request.addfinalizer(stop_all)
    return start


@pytest.fixture(scope="module")
def city(start_citysim):
    """A shared citysim in manual mode (cases move only when the test acts on the page)."""
    return start_citysim("--manual", "--district-url", "http://127.0.0.1:9")


_numbers = iter(range(1, 10**6))


def application(number: str | None = None) -> dict:
    return {
        "application_number": number or f"HTSP-2026-{next(_numbers):06d}-{os.getpid()}",
        "item_code": "JZSG",
        "item_name": "建筑工程施工许可证",
        "department": "株洲市住房和城乡建设局",
        "project_code": "2026-430202-47-01-000001",
        "project_name": "硬质合金刀具扩产项目",
        "enterprise": {"uscc": "91430202000000001X", "name": "株洲硬质合金集团有限公司"},
        "applicant": {"name": "张三", "phone": "13812341234"},
        "description": "",
        "accepted_at": dt.datetime.now(dt.UTC).isoformat(),
        "automatic": False,
        "materials": [{"requirement": "施工图", "filename": "plan.pdf", "sha256": "0" * 64, "size": 10}],
    }


def send(city, payload, *, key, message_type="application.submit", message_id=None, sent_at=None, signed=True):
    """POST one message as the district; returns (message id, response)."""
    message_id = message_id or protocol.new_message_id()
    body = protocol.build_body(
        message_id=message_id, message_type=message_type, sender="district", payload=payload, sent_at=sent_at
    )
    headers = {"Content-Type": protocol.CONTENT_TYPE}
    if signed:
        headers[protocol.SIGNATURE_HEADER] = protocol.sign(body, key)
    return message_id, httpx.post(city.url + protocol.INBOUND_PATH, content=body, headers=headers, timeout=10)


def result_of(response, message_id, keyring) -> dict:
    assert response.status_code == 200, response.text
    return protocol.parse_reply(
        response.content, response.headers.get(protocol.SIGNATURE_HEADER), keyring.city_public, message_id=message_id
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_submit_is_acknowledged_with_a_signed_reply(city, keyring):
    before = city.stats()
    message_id, response = send(city, application(), key=keyring.district_private)
    result = result_of(response, message_id, keyring)
    assert re.fullmatch(rf"ZZSP-{timezone.localdate().year}-\d{{6}}", result["case_number"])
    assert dt.datetime.fromisoformat(result["received_at"]).tzinfo is not None
    assert protocol.DUPLICATE_HEADER not in response.headers
    after = city.stats()
    assert after["cases"] == before["cases"] + 1
    assert after["cases_by_status"]["received"] == before["cases_by_status"].get("received", 0) + 1


def test_a_duplicate_gets_the_stored_answer_and_no_second_effect(city, keyring):
    payload = application()
    message_id, first = send(city, payload, key=keyring.district_private)
    before = city.stats()
    _, again = send(city, payload, key=keyring.district_private, message_id=message_id)
    assert again.headers[protocol.DUPLICATE_HEADER] == "1"
    assert result_of(again, message_id, keyring) == result_of(first, message_id, keyring)
    after = city.stats()
    assert after["effects"] == before["effects"]
    assert after["cases"] == before["cases"]
    assert after["duplicates_answered"] == before["duplicates_answered"] + 1
    assert after["duplicate_effects"] == 0


def test_the_same_id_with_other_content_is_refused_as_replayed(city, keyring):
    message_id, first = send(city, application(), key=keyring.district_private)
    assert first.status_code == 200
    before = city.stats()
    _, replay = send(city, application(), key=keyring.district_private, message_id=message_id)
    assert (replay.status_code, error_code(replay)) == (409, "replayed")
    after = city.stats()
    assert after["cases"] == before["cases"]
    assert after["rejections"] == before["rejections"] + 1


def test_unsigned_forged_and_expired_messages_are_refused_and_logged(city, keyring):
    before = city.stats()
    _, unsigned = send(city, application(), key=keyring.district_private, signed=False)
    assert (unsigned.status_code, error_code(unsigned)) == (401, "unsigned")
    forged_key = protocol.load_private_key(protocol.generate_keypair()[0])
    _, forged = send(city, application(), key=forged_key)
    assert (forged.status_code, error_code(forged)) == (401, "bad_signature")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    _, expired = send(city, application(), key=keyring.district_private, sent_at=old)
    assert (expired.status_code, error_code(expired)) == (401, "expired")
    _, status_message = send(city, {"case_number": "x"}, key=keyring.district_private, message_type="case.status")
    assert (status_message.status_code, error_code(status_message)) == (400, "malformed")
    after = city.stats()
    assert after["cases"] == before["cases"]
    assert after["messages_processed"] == before["messages_processed"]
    assert after["rejections"] == before["rejections"] + 4


def test_a_supplement_for_an_unknown_case_is_404(city, keyring):
    payload = {"application_number": "HTSP-0", "case_number": "ZZSP-1999-000001", "note": "", "materials": []}
    _, response = send(city, payload, key=keyring.district_private, message_type="application.supplement")
    assert (response.status_code, error_code(response)) == (404, "unknown_case")


def test_the_reviewer_page_moves_a_case_and_takes_a_supplement(city, keyring):
    payload = application()
    message_id, response = send(city, payload, key=keyring.district_private)
    case_number = result_of(response, message_id, keyring)["case_number"]

    page = httpx.get(city.url + "/?lang=en", timeout=10)
    assert page.status_code == 200
    assert case_number in page.text and payload["application_number"] in page.text
    assert "Start review" in page.text
    assert httpx.get(city.url + "/static/bootstrap.min.css", timeout=10).headers["Content-Type"] == "text/css"

    def act(action, reason=""):
        response = httpx.post(
            f"{city.url}/cases/{case_number}/{action}", data={"reason": reason, "lang": "en"}, timeout=10
        )
        assert response.status_code == 303
        return response.headers["Location"]

    assert "error=wrong_state" in act("approve")  # not in review yet
    assert "error" not in act("review")
    assert "error=reason_required" in act("return")
    assert "error" not in act("return", "请补充消防设计文件")

    supplement = {
        "application_number": payload["application_number"], "case_number": case_number, "note": "已补充",
        "materials": [{"requirement": "消防设计文件", "filename": "fire.pdf", "sha256": "1" * 64, "size": 5}],
    }
    message_id, response = send(city, supplement, key=keyring.district_private, message_type="application.supplement")
    assert result_of(response, message_id, keyring)["case_number"] == case_number
    assert "error" not in act("review")
    _, late = send(city, supplement, key=keyring.district_private, message_type="application.supplement")
    assert (late.status_code, error_code(late)) == (409, "wrong_state")
    assert "error" not in act("approve")

    page = httpx.get(city.url + "/?lang=en&status=granted", timeout=10).text
    assert re.search(rf"{case_number}.*ZZ-JZSG-\d{{4}}-\d{{5}}", page, re.S)
    assert city.stats()["callbacks_pending"] >= 4  # in_review, returned, in_review, granted (district unreachable)


def test_an_error_rate_of_one_answers_503_and_stores_nothing(start_citysim, keyring):
    city = start_citysim("--manual", "--error-rate", "1.0")
    _, response = send(city, application(), key=keyring.district_private)
    assert (response.status_code, error_code(response)) == (503, "unavailable")
    stats = city.stats()
    assert (stats["messages_processed"], stats["cases"], stats["effects"]) == (0, 0, 0)


def test_a_dropped_reply_is_committed_and_answered_after_a_restart(start_citysim, keyring):
    dropping = start_citysim("--manual", "--drop-replies", "1.0")
    payload = application()
    with pytest.raises(httpx.TransportError):
        send(dropping, payload, key=keyring.district_private, message_id=(message_id := protocol.new_message_id()))
    stats = dropping.stats()
    assert (stats["messages_processed"], stats["cases"], stats["effects"]) == (1, 1, 1)
    dropping.stop(signal.SIGKILL)

    restarted = start_citysim("--manual", db=dropping.db)
    _, retry = send(restarted, payload, key=keyring.district_private, message_id=message_id)
    assert retry.headers[protocol.DUPLICATE_HEADER] == "1"
    assert result_of(retry, message_id, keyring)["case_number"].endswith("-000001")
    stats = restarted.stats()
    assert (stats["cases"], stats["effects"], stats["duplicate_effects"]) == (1, 1, 0)
    assert restarted.stop() == 0  # SIGTERM is a clean exit


def test_a_downtime_window_closes_connections(start_citysim, keyring):
    city = start_citysim("--manual", "--downtime", "0+2")
    started = time.monotonic()  # the window opened a little before citysim said it was listening
    with pytest.raises(httpx.TransportError):
        send(city, application(), key=keyring.district_private)
    time.sleep(max(0.0, started + 2.2 - time.monotonic()))
    message_id, response = send(city, application(), key=keyring.district_private)
    assert result_of(response, message_id, keyring)["case_number"]


class StandInDistrict(http.server.BaseHTTPRequestHandler):
    """The district's inbound endpoint, as far as this test needs it: verify, record, answer signed.

    The first request is refused with a 503, so the city's retry is exercised too."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        district = self.server.district
        district.attempts += 1
        if district.attempts == 1:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        envelope = protocol.parse_message(
            body, self.headers.get(protocol.SIGNATURE_HEADER), district.city_public, expected_sender="city"
        )
        district.received.append((envelope.id, envelope.payload))
        reply = protocol.build_reply(envelope.id, {"applied": True})
        self.send_response(200)
        self.send_header("Content-Type", protocol.CONTENT_TYPE)
        self.send_header(protocol.SIGNATURE_HEADER, protocol.sign(reply, district.private_key))
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args):
        return None


@pytest.fixture
def stand_in_district(keyring):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StandInDistrict)
    server.district = SimpleNamespace(
        attempts=0, received=[], city_public=keyring.city_public, private_key=keyring.district_private
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_status_callbacks_reach_the_district_in_version_order(start_citysim, keyring, stand_in_district):
    district_url = f"http://127.0.0.1:{stand_in_district.server_address[1]}"
    city = start_citysim(
        "--district-url", district_url, "--review-after", "0.2", "--decide-after", "0.4",
        "--return-rate", "0", "--deny-rate", "0", "--seed", "1",
    )
    payload = application()
    message_id, response = send(city, payload, key=keyring.district_private)
    case_number = result_of(response, message_id, keyring)["case_number"]
    received = stand_in_district.district.received
    deadline = time.monotonic() + 10
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(p["status"], p["version"]) for _, p in received] == [("in_review", 2), ("granted", 3)]
    granted = received[1][1]
    assert granted["case_number"] == case_number
    assert granted["application_number"] == payload["application_number"]
    assert re.fullmatch(r"ZZ-JZSG-\d{4}-\d{5}", granted["certificate_number"])
    assert granted["certificate_date"] == timezone.localdate().isoformat()
    assert stand_in_district.district.attempts == 3  # the first in_review attempt was refused and retried
    while city.stats()["callbacks_delivered"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the reply is in; the city records the delivery right after
    stats = city.stats()
    assert (stats["callbacks_delivered"], stats["callbacks_pending"], stats["callbacks_failed"]) == (2, 0, 0)
    assert stats["cases_by_status"] == {"granted": 1}
