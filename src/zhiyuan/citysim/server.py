"""citysim's HTTP server: the city side of the data link, the reviewer's page and /stats.

Routes:
- POST datalink INBOUND_PATH: a signed message from the district (protocol.parse_message). Accepted messages
  are acted on once (Store.receive) and answered, after the commit, with a reply signed by the city's key;
  a retry of the same message gets the stored reply again with the X-Zhiyuan-Duplicate header. Rejections
  get the protocol's 4xx error body and are logged (python logging and the `rejections` table).
- GET /stats: counters as JSON, for tests and the fault drill.
- GET /: the city reviewer's page (?lang=en for English, ?status=… to filter); POST /cases/<number>/<action>
  with action review, approve, return or deny (a `reason` form field for the last two), then 303 back.
- GET /static/bootstrap.min.css: the installed Bootstrap, so the page needs no CDN.

This is a simulator for demos and tests: the page and /stats have no authentication and no CSRF protection;
bind it to localhost. The fault knobs (error rate, latency, dropped replies, downtime windows) only make the
data link misbehave; they never make it lose or duplicate anything acknowledged.
"""

import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from zhiyuan.citysim.store import ACTIONS, CaseError, Store
from zhiyuan.datalink.protocol import (
    CONTENT_TYPE,
    DUPLICATE_HEADER,
    INBOUND_PATH,
    SIGNATURE_HEADER,
    ProtocolError,
    canonical_json,
    parse_message,
    sign,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
PAGE_LIMIT = 200  # cases shown on the reviewer's page
CASE_ACTION_PATH = re.compile(r"^/cases/(?P<case_number>[A-Za-z0-9-]+)/(?P<action>[a-z_]+)/?$")

STATUS_LABELS = {
    "received": _("Received"),
    "in_review": _("In review"),
    "returned": _("Returned for more material"),
    "granted": _("Granted"),
    "denied": _("Denied"),
}
STATUS_BADGES = {
    "received": "secondary", "in_review": "primary", "returned": "warning", "granted": "success", "denied": "danger",
}
ERROR_MESSAGES = {
    "unknown_case": _("There is no such case."),
    "wrong_state": _("The case has moved on; that action no longer applies."),
    "reason_required": _("Give a reason to return or deny a case."),
    "unknown_action": _("Unknown action."),
}


@dataclass
class Knobs:
    """Fault injection: the share of messages answered 503, a delay, the share of replies dropped after the
    commit, and downtime windows as (start, duration) in seconds since the server started."""

    error_rate: float = 0.0
    latency_ms: int = 0
    drop_replies: float = 0.0
    downtime: list[tuple[float, float]] = field(default_factory=list)


class CitySim:
    """One running city simulator: its database, keys, fault knobs and the sender to wake on changes."""

    def __init__(
        self,
        *,
        store: Store,
        private_key: Ed25519PrivateKey,
        district_public_key: Ed25519PublicKey,
        max_skew_seconds: int,
        knobs: Knobs,
        rng: random.Random,
        manual: bool,
        on_change=None,
    ):
        self.store = store
        self.private_key = private_key
        self.district_public_key = district_public_key
        self.max_skew_seconds = max_skew_seconds
        self.knobs = knobs
        self.rng = rng
        self._rng_lock = threading.Lock()
        self.manual = manual
        self.on_change = on_change or (lambda: None)
        self.started = time.monotonic()
        path = finders.find("bootstrap/css/bootstrap.min.css")
        self.bootstrap_css = Path(path).read_bytes() if path else b""

    def chance(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._rng_lock:
            return self.rng.random() < probability

    def down(self) -> bool:
        """Whether now falls in one of the downtime windows."""
        elapsed = time.monotonic() - self.started
        return any(start <= elapsed < start + duration for start, duration in self.knobs.downtime)

    def reject(self, error: ProtocolError, body: bytes, remote_addr: str) -> None:
        message_id = ""
        try:
            data = json.loads(body)
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                message_id = data["id"][:64]
        except ValueError:
            pass
        logger.warning(
            "citysim rejected message %s from %s: %s %s (%s)",
            message_id or "-", remote_addr, error.status, error.code, error.message,
        )
        self.store.record_rejection(
            code=error.code, message=error.message, message_id=message_id, remote_addr=remote_addr
        )


class CityHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer (a daemon thread per connection) that refuses connections while down."""

    daemon_threads = True
    block_on_close = False  # an idle keep-alive connection must not hold up the shutdown
    request_queue_size = 128

    def __init__(self, address, sim: CitySim):
        self.sim = sim
        super().__init__(address, CityRequestHandler)

    def verify_request(self, request, client_address) -> bool:
        # During a downtime window a new connection is closed at once, without a response.
        return not self.sim.down()


class CityRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a district sender reuses its connection
    disable_nagle_algorithm = True
    timeout = 120
    server_version = "citysim/1.0"
    server: CityHTTPServer

    def log_message(self, format, *args):
        logger.debug("citysim %s %s", self.address_string(), format % args)

    # Plumbing -------------------------------------------------------------------------------------------

    def _drop(self) -> None:
        """Close the connection without answering (the client sees a disconnect)."""
        self.close_connection = True

    def _send(self, status: int, body: bytes, content_type: str = CONTENT_TYPE, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_error_json(self, status: int, code: str, message: str) -> None:
        self._send(status, canonical_json({"error": {"code": code, "message": message}}))

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 411/413 (and closing) when it cannot be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send_error_json(411, "length_required", "Send the body with a Content-Length.")
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_error_json(413, "too_large", f"The body must be at most {MAX_BODY_BYTES} bytes.")
            return None
        return self.rfile.read(length) if length else b""

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # Routes ---------------------------------------------------------------------------------------------

    def do_POST(self) -> None:
        sim = self.server.sim
        if sim.down():
            return self._drop()
        body = self._read_body()
        if body is None:
            return None
        path = urlsplit(self.path).path
        try:
            if path == INBOUND_PATH:
                return self._inbound(body)
            match = CASE_ACTION_PATH.match(path)
            if match:
                return self._case_action(match["case_number"], match["action"], body)
            return self._send_error_json(404, "not_found", "No such path.")
        except Exception:
            # Nothing was committed (the transaction rolled back): the sender may simply retry.
            logger.exception("citysim: request %s failed", path)
            return self._send_error_json(500, "internal_error", "The city system failed; send again.")

    def do_GET(self) -> None:
        sim = self.server.sim
        if sim.down():
            return self._drop()
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if url.path == "/stats":  # unauthenticated on purpose: a simulator's counters, nothing confidential
            return self._send(200, json.dumps(sim.store.stats()).encode())
        if url.path == "/static/bootstrap.min.css" and sim.bootstrap_css:
            return self._send(200, sim.bootstrap_css, "text/css", {"Cache-Control": "max-age=3600"})
        if url.path == "/":
            return self._page(query)
        return self._send_error_json(404, "not_found", "No such path.")

    def _inbound(self, body: bytes) -> None:
        sim = self.server.sim
        if sim.chance(sim.knobs.error_rate):
            return self._send_error_json(503, "unavailable", "The city system is unavailable; try again later.")
        if sim.knobs.latency_ms > 0:
            time.sleep(sim.knobs.latency_ms / 1000)
        try:
            envelope = parse_message(
                body, self.headers.get(SIGNATURE_HEADER), sim.district_public_key,
                expected_sender="district", max_skew_seconds=sim.max_skew_seconds,
            )
            answer = sim.store.receive(envelope)
        except ProtocolError as error:
            sim.reject(error, body, self.client_address[0])
            return self._send(error.status, error.as_body())
        # The effect is committed; a dropped reply only makes the district send again.
        if sim.chance(sim.knobs.drop_replies):
            return self._drop()
        headers = {SIGNATURE_HEADER: sign(answer.body, sim.private_key)}
        if answer.duplicate:
            headers[DUPLICATE_HEADER] = "1"
        return self._send(answer.status, answer.body, headers=headers)

    def _case_action(self, case_number: str, action: str, body: bytes) -> None:
        sim = self.server.sim
        form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        back = {key: form[key] for key in ("lang", "status") if form.get(key)}
        if action not in ACTIONS:
            back["error"] = "unknown_action"
        else:
            try:
                with sim.store.transaction() as conn:
                    sim.store.apply(conn, case_number, action, form.get("reason", ""))
            except CaseError as error:
                back["error"] = error.code
            else:
                logger.info("citysim reviewer: %s %s", action, case_number)
                sim.on_change()
        return self._redirect("/" + (f"?{urlencode(back)}" if back else ""))

    def _page(self, query: dict[str, str]) -> None:
        sim = self.server.sim
        lang = "en" if query.get("lang") == "en" else "zh-hans"
        status = query.get("status", "")
        status = status if status in STATUS_LABELS else ""
        with translation.override(lang):
            cases = [_case_view(row) for row in sim.store.list_cases(status=status, limit=PAGE_LIMIT)]
            stats = sim.store.stats()
            context = {
                "lang": lang,
                "cases": cases,
                "stats": stats,
                "status": status,
                "statuses": [
                    (key, str(label), stats["cases_by_status"].get(key, 0)) for key, label in STATUS_LABELS.items()
                ],
                "error": str(ERROR_MESSAGES.get(query.get("error", ""), "")),
                "manual": sim.manual,
                "limit": PAGE_LIMIT,
            }
            html = render_to_string("citysim/index.html", context)
        return self._send(200, html.encode("utf-8"), "text/html; charset=utf-8")


def _local_time(value: str) -> str:
    parsed = parse_datetime(value) if value else None
    return timezone.localtime(parsed).strftime("%Y-%m-%d %H:%M:%S") if parsed else ""


def _case_view(row) -> dict:
    """A case row as the page shows it, with the actions that apply to it now."""
    status = row["status"]
    return {
        "case_number": row["case_number"],
        "application_number": row["application_number"],
        "item_name": row["item_name"],
        "item_code": row["item_code"],
        "enterprise_name": row["enterprise_name"],
        "status": status,
        "status_label": str(STATUS_LABELS.get(status, status)),
        "badge": STATUS_BADGES.get(status, "secondary"),
        "version": row["version"],
        "reason": row["reason"],
        "certificate_number": row["certificate_number"],
        "supplemented": row["supplement_since"] is not None,
        "received_at": _local_time(row["received_at"]),
        "updated_at": _local_time(row["updated_at"]),
        "can_review": status == "received" or (status == "returned" and row["supplement_since"] is not None),
        "can_decide": status == "in_review",
    }
