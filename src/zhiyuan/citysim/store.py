"""citysim's own SQLite database (stdlib sqlite3, not the Django ORM): cases, the ledger of processed
messages, effects, status callbacks to the district and rejections.

Tables:
- `inbound`: every accepted message id with its fingerprint and the reply it got, so a retry is answered
  from here without acting twice, and the same id with other content is refused;
- `cases`: one per `application.submit`, moved received → in_review → returned/granted/denied; every change
  bumps `version` and queues a `callbacks` row in the same transaction;
- `effects`: what the messages did (`case_created`, `supplement`); the fault drill counts duplicates here;
- `supplements`, `rejections`, `counters` (duplicates answered).

Concurrency: one writer connection behind a lock, every write a short BEGIN IMMEDIATE … COMMIT (SQLite
allows one writer anyway; the lock keeps writers from busy-waiting on each other), and one reader connection
for the page and /stats, which WAL lets read committed data while a write is in progress. WAL with
synchronous=NORMAL keeps every committed transaction when the process is killed; the server replies only
after the commit.
"""

import datetime as dt
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from zhiyuan.datalink.protocol import Envelope, ProtocolError, build_reply, canonical_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound (
    message_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    type TEXT NOT NULL,
    reply_status INTEGER NOT NULL,
    reply_body TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    case_number TEXT NOT NULL UNIQUE,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    application_number TEXT NOT NULL,
    item_code TEXT NOT NULL,
    item_name TEXT NOT NULL,
    enterprise_name TEXT NOT NULL,
    enterprise_uscc TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    certificate_number TEXT NOT NULL DEFAULT '',
    certificate_date TEXT NOT NULL DEFAULT '',
    cert_year INTEGER,
    cert_seq INTEGER,
    returns INTEGER NOT NULL DEFAULT 0,
    supplement_since REAL,
    status_since REAL NOT NULL,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX IF NOT EXISTS cases_status ON cases (status, status_since);
CREATE INDEX IF NOT EXISTS cases_application ON cases (application_number);
CREATE INDEX IF NOT EXISTS cases_certificate ON cases (item_code, cert_year, cert_seq);
CREATE TABLE IF NOT EXISTS supplements (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    message_id TEXT NOT NULL,
    note TEXT NOT NULL,
    materials TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS effects (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    application_number TEXT NOT NULL,
    case_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS effects_kind ON effects (kind, application_number);
CREATE TABLE IF NOT EXISTS callbacks (
    message_id TEXT PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    version INTEGER NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    delivered_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS callbacks_due ON callbacks (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS callbacks_case ON callbacks (case_id, status, version);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    message_id TEXT NOT NULL,
    remote_addr TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# Manual and automatic actions on a case: the status they lead to and the statuses they start from.
ACTIONS = {
    "review": ("in_review", ("received", "returned")),
    "approve": ("granted", ("in_review",)),
    "return": ("returned", ("in_review",)),
    "deny": ("denied", ("in_review",)),
}
REASON_REQUIRED = ("return", "deny")


class CaseError(Exception):
    """A reviewer action that does not apply: `code` is unknown_case, wrong_state or reason_required."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Answer:
    """The reply to a processed message: stored, so a retry gets exactly the same body."""

    status: int
    body: bytes
    duplicate: bool = False


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


def _text(payload: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = payload.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ProtocolError("malformed", f"The payload needs a text field {key!r}.")
    return value


class Store:
    """The database of one citysim process."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        self._reader = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._writer.close()
            self._reader.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises."""
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._read_lock:
            yield self._reader

    # Inbound messages ---------------------------------------------------------------------------------

    def receive(self, envelope: Envelope) -> Answer:
        """Act on a verified message exactly once and return its reply; a retry gets the stored reply.

        Raises ProtocolError for a replayed id with other content (409), an unknown case (404), a case in
        the wrong state (409) or a payload or type citysim does not take (400); nothing is then written.
        """
        fingerprint = envelope.fingerprint
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT fingerprint, reply_status, reply_body FROM inbound WHERE message_id = ?", (envelope.id,)
            ).fetchone()
            if row is not None:
                if row["fingerprint"] != fingerprint:
                    raise ProtocolError("replayed", "This message id was already accepted with other content.", 409)
                conn.execute(
                    "INSERT INTO counters (name, value) VALUES ('duplicates_answered', 1) "
                    "ON CONFLICT (name) DO UPDATE SET value = value + 1"
                )
                return Answer(row["reply_status"], row["reply_body"].encode("utf-8"), duplicate=True)
            now = time.time()
            if envelope.type == "application.submit":
                result = self._create_case(conn, envelope, now)
            elif envelope.type == "application.supplement":
                result = self._add_supplement(conn, envelope, now)
            else:
                raise ProtocolError("malformed", f"The city does not take {envelope.type!r} messages.")
            body = build_reply(envelope.id, result)
            conn.execute(
                "INSERT INTO inbound (message_id, fingerprint, type, reply_status, reply_body, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (envelope.id, fingerprint, envelope.type, 200, body.decode("utf-8"), iso(now)),
            )
        return Answer(200, body)

    def _create_case(self, conn: sqlite3.Connection, envelope: Envelope, now: float) -> dict[str, str]:
        payload = envelope.payload
        application_number = _text(payload, "application_number", required=True)
        item_code = _text(payload, "item_code", required=True)
        enterprise = payload.get("enterprise") if isinstance(payload.get("enterprise"), dict) else {}
        year = timezone.localtime().year
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM cases WHERE year = ?", (year,)).fetchone()[0]
        case_number = f"ZZSP-{year}-{seq:06d}"
        received_at = iso(now)
        cursor = conn.execute(
            "INSERT INTO cases (case_number, year, seq, application_number, item_code, item_name, enterprise_name,"
            " enterprise_uscc, payload, status, version, status_since, received_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', 1, ?, ?, ?)",
            (
                case_number, year, seq, application_number, item_code, str(payload.get("item_name", "")),
                str(enterprise.get("name", "")), str(enterprise.get("uscc", "")),
                canonical_json(payload).decode("utf-8"), now, received_at, received_at,
            ),
        )
        # No de-duplication on the application number: only the message id makes a retry. A district that
        # sent one application twice under two ids would show up here as a duplicate effect.
        conn.execute(
            "INSERT INTO effects (kind, application_number, case_id, message_id, at)"
            " VALUES ('case_created', ?, ?, ?, ?)",
            (application_number, cursor.lastrowid, envelope.id, received_at),
        )
        return {"case_number": case_number, "received_at": received_at}

    def _add_supplement(self, conn: sqlite3.Connection, envelope: Envelope, now: float) -> dict[str, str]:
        payload = envelope.payload
        application_number = _text(payload, "application_number", required=True)
        case_number = _text(payload, "case_number", required=True)
        materials = payload.get("materials", [])
        if not isinstance(materials, list):
            raise ProtocolError("malformed", "The payload's materials are not a list.")
        case = conn.execute(
            "SELECT id, status FROM cases WHERE case_number = ? AND application_number = ?",
            (case_number, application_number),
        ).fetchone()
        if case is None:
            raise ProtocolError("unknown_case", f"No case {case_number} for application {application_number}.", 404)
        if case["status"] != "returned":
            raise ProtocolError(
                "wrong_state", f"Case {case_number} is {case['status']}; only a returned case takes a supplement.", 409
            )
        received_at = iso(now)
        conn.execute(
            "INSERT INTO supplements (case_id, message_id, note, materials, received_at) VALUES (?, ?, ?, ?, ?)",
            (case["id"], envelope.id, str(payload.get("note", "")), canonical_json(materials).decode(), received_at),
        )
        conn.execute(
            "UPDATE cases SET supplement_since = COALESCE(supplement_since, ?), updated_at = ? WHERE id = ?",
            (now, received_at, case["id"]),
        )
        conn.execute(
            "INSERT INTO effects (kind, application_number, case_id, message_id, at)"
            " VALUES ('supplement', ?, ?, ?, ?)",
            (application_number, case["id"], envelope.id, received_at),
        )
        return {"case_number": case_number, "received_at": received_at}

    def record_rejection(self, *, code: str, message: str, message_id: str, remote_addr: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO rejections (at, code, message, message_id, remote_addr) VALUES (?, ?, ?, ?, ?)",
                (iso(time.time()), code, message[:500], message_id, remote_addr),
            )

    # Case changes ---------------------------------------------------------------------------------------

    def apply(self, conn: sqlite3.Connection, case_number: str, action: str, reason: str = "") -> str:
        """Inside a transaction: do `action` on a case, bump its version and queue the status callback.

        Returns the new status; raises CaseError (nothing written) when the action does not apply.
        """
        status, from_statuses = ACTIONS[action]
        reason = reason.strip()
        if action in REASON_REQUIRED and not reason:
            raise CaseError("reason_required", "A reason is required.")
        case = conn.execute("SELECT * FROM cases WHERE case_number = ?", (case_number,)).fetchone()
        if case is None:
            raise CaseError("unknown_case", f"No case {case_number}.")
        if case["status"] not in from_statuses or (case["status"] == "returned" and case["supplement_since"] is None):
            raise CaseError("wrong_state", f"Case {case_number} is {case['status']}.")
        now = time.time()
        at = iso(now)
        version = case["version"] + 1
        certificate_number, certificate_date, cert_year, cert_seq = "", "", None, None
        if status == "granted":
            today = timezone.localdate()
            cert_year = today.year
            cert_seq = conn.execute(
                "SELECT COALESCE(MAX(cert_seq), 0) + 1 FROM cases WHERE item_code = ? AND cert_year = ?",
                (case["item_code"], cert_year),
            ).fetchone()[0]
            certificate_number = f"ZZ-{case['item_code']}-{cert_year}-{cert_seq:05d}"
            certificate_date = today.isoformat()
        conn.execute(
            "UPDATE cases SET status = ?, version = ?, reason = ?, certificate_number = ?, certificate_date = ?,"
            " cert_year = ?, cert_seq = ?, returns = returns + ?, supplement_since = NULL, status_since = ?,"
            " updated_at = ? WHERE id = ?",
            (
                status, version, reason, certificate_number, certificate_date, cert_year, cert_seq,
                int(status == "returned"), now, at, case["id"],
            ),
        )
        payload = {
            "application_number": case["application_number"],
            "case_number": case_number,
            "version": version,
            "status": status,
            "reason": reason,
            "certificate_number": certificate_number,
            "certificate_date": certificate_date,
            "at": at,
        }
        conn.execute(
            "INSERT INTO callbacks (message_id, case_id, version, payload, status, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, 'pending', ?, ?)",
            (str(uuid.uuid4()), case["id"], version, canonical_json(payload).decode("utf-8"), now, at),
        )
        return status

    def due_for_review(self, *, now: float, review_after: float, decide_after: float, limit: int = 500) -> list:
        """Cases the automatic reviewer should move: received or supplemented long enough, or reviewed long enough."""
        review_cutoff, decide_cutoff = now - review_after, now - decide_after
        with self.reading() as conn:
            return conn.execute(
                "SELECT case_number, status, returns FROM cases"
                " WHERE (status = 'received' AND status_since <= ?)"
                " OR (status = 'returned' AND supplement_since <= ?)"
                " OR (status = 'in_review' AND status_since <= ?)"
                " ORDER BY id LIMIT ?",
                (review_cutoff, review_cutoff, decide_cutoff, limit),
            ).fetchall()

    # Callbacks ------------------------------------------------------------------------------------------

    def due_callbacks(self, *, now: float, limit: int) -> list:
        """Pending callbacks whose time has come, at most one per case: the lowest version not yet settled."""
        with self.reading() as conn:
            return conn.execute(
                "SELECT c.message_id, c.payload, c.attempts FROM callbacks c"
                " WHERE c.status = 'pending' AND c.next_attempt_at <= ?"
                " AND c.version = (SELECT MIN(p.version) FROM callbacks p WHERE p.case_id = c.case_id"
                " AND p.status = 'pending')"
                " ORDER BY c.next_attempt_at LIMIT ?",
                (now, limit),
            ).fetchall()

    def record_attempts(self, outcomes: list[tuple[str, str | None, float | None]]) -> None:
        """Record attempts as (message_id, error or None when delivered, next attempt time or None when given up)."""
        at = iso(time.time())
        with self.transaction() as conn:
            for message_id, error, next_attempt_at in outcomes:
                if error is None:
                    conn.execute(
                        "UPDATE callbacks SET status = 'delivered', attempts = attempts + 1, last_error = '',"
                        " delivered_at = ? WHERE message_id = ?",
                        (at, message_id),
                    )
                elif next_attempt_at is None:
                    conn.execute(
                        "UPDATE callbacks SET status = 'failed', attempts = attempts + 1, last_error = ?"
                        " WHERE message_id = ?",
                        (error[:1000], message_id),
                    )
                else:
                    conn.execute(
                        "UPDATE callbacks SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
                        " WHERE message_id = ?",
                        (error[:1000], next_attempt_at, message_id),
                    )

    # Reading --------------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self.reading() as conn:

            def one(sql: str) -> int:
                return conn.execute(sql).fetchone()[0]

            callbacks = dict(conn.execute("SELECT status, COUNT(*) FROM callbacks GROUP BY status").fetchall())
            return {
                "messages_processed": one("SELECT COUNT(*) FROM inbound"),
                "duplicates_answered": one(
                    "SELECT COALESCE(MAX(value), 0) FROM counters WHERE name = 'duplicates_answered'"
                ),
                "rejections": one("SELECT COUNT(*) FROM rejections"),
                "cases": one("SELECT COUNT(*) FROM cases"),
                "effects": one("SELECT COUNT(*) FROM effects"),
                "duplicate_effects": one(
                    "SELECT COUNT(*) - COUNT(DISTINCT application_number) FROM effects WHERE kind = 'case_created'"
                ),
                "cases_by_status": dict(conn.execute("SELECT status, COUNT(*) FROM cases GROUP BY status").fetchall()),
                "callbacks_pending": callbacks.get("pending", 0),
                "callbacks_delivered": callbacks.get("delivered", 0),
                "callbacks_failed": callbacks.get("failed", 0),
            }

    def list_cases(self, *, status: str = "", limit: int = 200) -> list[sqlite3.Row]:
        """The newest cases, optionally of one status, for the reviewer's page."""
        sql = "SELECT * FROM cases" + (" WHERE status = ?" if status else "") + " ORDER BY id DESC LIMIT ?"
        with self.reading() as conn:
            return conn.execute(sql, (status, limit) if status else (limit,)).fetchall()
