"""The district ↔ city data-link protocol: signed JSON messages over HTTP POST.

Pure functions, no database: the district (`zhiyuan.datalink`) and the reference city system
(`zhiyuan.citysim`) both build, sign and check messages with this module.

A message is one HTTP POST to the peer's INBOUND_PATH. Its body is the canonical JSON (sorted keys,
no spaces, UTF-8) of the envelope

    {"id": "<uuid4>", "type": "application.submit", "sender": "district",
     "sent_at": "2026-11-29T08:00:00.123456+00:00", "payload": {...}}

and its Ed25519 signature over exactly those bytes travels, base64-encoded, in the
`X-Zhiyuan-Signature` header. Each side signs with its own private key and verifies with the
other side's public key.

The receiver answers 2xx with a signed reply `{"in_reply_to": "<id>", "ok": true, "result": {...}}`
(signature in the same header), or 4xx with `{"error": {"code", "message"}}`:
- 401 `unsigned` / `bad_signature`: no or wrong signature;
- 400 `malformed`: not an envelope; 401 `expired`: sent_at outside the clock-skew window;
- 409 `replayed`: a message id already accepted with different content.

Retries are the sender's job; the receiver makes them safe. A retry keeps the message id, type,
sender and payload and gets a fresh `sent_at` (so it passes the skew check) and a fresh signature;
the receiver recognises it by id and the **fingerprint** (SHA-256 of the canonical id, type, sender
and payload: everything but the time) and answers with the original reply without acting twice.

Message types and payloads:
- `application.submit` (district → city), an accepted application forwarded for decision:
  {application_number, item_code, item_name, department, project_code, project_name,
   enterprise: {uscc, name}, applicant: {name, phone}, description, accepted_at, automatic,
   materials: [{requirement, filename, sha256, size}]}
  → result {case_number, received_at}
- `application.supplement` (district → city), materials sent after the city returned a case:
  {application_number, case_number, note, materials: [...]} → result {case_number, received_at}
- `case.status` (city → district), a case moved on:
  {application_number, case_number, version, status, reason, certificate_number, certificate_date, at}
  with status one of CASE_STATUSES; `version` increases by one with every change of the case, so a
  receiver can ignore an update older than the one it already applied.
  → result {applied: bool}
"""

import base64
import binascii
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

INBOUND_PATH = "/datalink/inbound/"
SIGNATURE_HEADER = "X-Zhiyuan-Signature"
DUPLICATE_HEADER = "X-Zhiyuan-Duplicate"
CONTENT_TYPE = "application/json"
DEFAULT_MAX_SKEW_SECONDS = 300

SENDERS = ("district", "city")
MESSAGE_TYPES = ("application.submit", "application.supplement", "case.status")
# The states of a city case, in the order they normally happen (returned → in_review can repeat).
CASE_STATUSES = ("received", "in_review", "returned", "granted", "denied")
FINAL_CASE_STATUSES = ("granted", "denied")


class ProtocolError(Exception):
    """A message or reply that the protocol rejects; `status` is the HTTP status to answer with."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def as_body(self) -> bytes:
        return canonical_json({"error": {"code": self.code, "message": self.message}})


@dataclass(frozen=True)
class Envelope:
    """A parsed, verified message."""

    id: str
    type: str
    sender: str
    sent_at: dt.datetime
    payload: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return message_fingerprint(self.id, self.type, self.sender, self.payload)


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON value that is signed and hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_message_id() -> str:
    return str(uuid.uuid4())


def message_fingerprint(message_id: str, message_type: str, sender: str, payload: dict[str, Any]) -> str:
    """SHA-256 (hex) of everything in a message except its send time: equal for a message and its retries."""
    content = {"id": message_id, "type": message_type, "sender": sender, "payload": payload}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def build_body(
    *, message_id: str, message_type: str, sender: str, payload: dict[str, Any], sent_at: dt.datetime | None = None
) -> bytes:
    """The canonical body of a message, stamped with `sent_at` (now, in UTC, unless given)."""
    if message_type not in MESSAGE_TYPES:
        raise ValueError(f"unknown message type {message_type!r}")
    if sender not in SENDERS:
        raise ValueError(f"unknown sender {sender!r}")
    sent_at = sent_at or dt.datetime.now(dt.UTC)
    envelope = {
        "id": message_id,
        "type": message_type,
        "sender": sender,
        "sent_at": sent_at.astimezone(dt.UTC).isoformat(),
        "payload": payload,
    }
    return canonical_json(envelope)


def sign(body: bytes, private_key: Ed25519PrivateKey) -> str:
    """The base64 Ed25519 signature of `body`."""
    return base64.b64encode(private_key.sign(body)).decode("ascii")


def check_signature(body: bytes, signature: str | None, public_key: Ed25519PublicKey) -> None:
    """Raise ProtocolError (401) unless `signature` is the peer's valid signature of `body`."""
    if not signature:
        raise ProtocolError("unsigned", "The message carries no signature.", 401)
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, body)
    except (binascii.Error, ValueError, InvalidSignature):
        raise ProtocolError("bad_signature", "The signature does not match the message.", 401) from None


def parse_message(
    body: bytes,
    signature: str | None,
    public_key: Ed25519PublicKey,
    *,
    expected_sender: str,
    now: dt.datetime | None = None,
    max_skew_seconds: int = DEFAULT_MAX_SKEW_SECONDS,
) -> Envelope:
    """Verify and parse an incoming message, or raise ProtocolError saying why it is rejected.

    The signature is checked first (nothing unsigned is even parsed), then the envelope's shape,
    the sender and the clock skew. Replays are the receiver's check: it alone knows which ids it has seen.
    """
    check_signature(body, signature, public_key)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("malformed", "The body is not UTF-8 JSON.") from None
    if not isinstance(data, dict) or set(data) != {"id", "type", "sender", "sent_at", "payload"}:
        raise ProtocolError("malformed", "The body is not a message envelope.")
    try:
        message_id = str(uuid.UUID(str(data["id"])))
    except ValueError:
        raise ProtocolError("malformed", "The message id is not a UUID.") from None
    if message_id != data["id"]:
        # Only the canonical form, so that the id in the reply is byte for byte the one the sender used.
        raise ProtocolError("malformed", "The message id must be a lower-case hyphenated UUID.")
    if data["type"] not in MESSAGE_TYPES:
        raise ProtocolError("malformed", f"Unknown message type {data['type']!r}.")
    if data["sender"] != expected_sender:
        raise ProtocolError("malformed", f"Messages here must come from {expected_sender!r}.")
    if not isinstance(data["payload"], dict):
        raise ProtocolError("malformed", "The payload is not an object.")
    try:
        sent_at = dt.datetime.fromisoformat(str(data["sent_at"]))
    except ValueError:
        raise ProtocolError("malformed", "sent_at is not an ISO 8601 time.") from None
    if sent_at.tzinfo is None:
        raise ProtocolError("malformed", "sent_at has no time zone.")
    now = now or dt.datetime.now(dt.UTC)
    if abs((now - sent_at).total_seconds()) > max_skew_seconds:
        raise ProtocolError(
            "expired", f"sent_at is more than {max_skew_seconds} s away from the receiver's clock.", 401
        )
    return Envelope(id=message_id, type=data["type"], sender=data["sender"], sent_at=sent_at, payload=data["payload"])


def build_reply(message_id: str, result: dict[str, Any]) -> bytes:
    """The canonical body of a successful reply to message `message_id`."""
    return canonical_json({"in_reply_to": message_id, "ok": True, "result": result})


def parse_reply(body: bytes, signature: str | None, public_key: Ed25519PublicKey, *, message_id: str) -> dict:
    """Verify a 2xx reply and return its result; ProtocolError when it is unsigned, forged or for another message."""
    check_signature(body, signature, public_key)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError("malformed", "The reply is not UTF-8 JSON.") from None
    if not isinstance(data, dict) or data.get("in_reply_to") != message_id or data.get("ok") is not True:
        raise ProtocolError("malformed", "The reply does not answer this message.")
    result = data.get("result")
    if not isinstance(result, dict):
        raise ProtocolError("malformed", "The reply has no result object.")
    return result


# Keys ---------------------------------------------------------------------------------------------


def generate_keypair() -> tuple[bytes, bytes]:
    """A new Ed25519 key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def load_private_key(material: str | bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM, or from the base64 of its 32 raw bytes (handy in an env variable)."""
    data = material.encode() if isinstance(material, str) else material
    data = data.strip()
    if data.startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=None)
    else:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(data, validate=True))
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_public_key(material: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or from the base64 of its 32 raw bytes."""
    data = material.encode() if isinstance(material, str) else material
    data = data.strip()
    if data.startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
    else:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data, validate=True))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def public_key_of(private_key: Ed25519PrivateKey) -> Ed25519PublicKey:
    return private_key.public_key()
