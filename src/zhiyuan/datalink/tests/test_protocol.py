"""The data-link protocol (pure functions) and where the keys come from."""

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured

from zhiyuan.datalink import keys, protocol
from zhiyuan.datalink.protocol import ProtocolError, build_body, build_reply, parse_message, parse_reply, sign

NOW = dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC)
PAYLOAD = {"application_number": "HT20260000001", "项目": "硬质合金", "materials": [{"sha256": "ab", "size": 3}]}


@pytest.fixture
def district():
    return Ed25519PrivateKey.generate()


def signed(private_key, *, payload=None, message_id=None, sent_at=NOW, sender="district", message_type=None):
    body = build_body(message_id=message_id or protocol.new_message_id(), message_type=message_type or
                      "application.submit", sender=sender, payload=PAYLOAD if payload is None else payload,
                      sent_at=sent_at)
    return body, sign(body, private_key)


def parse(body, signature, public_key, **kwargs):
    kwargs.setdefault("now", NOW)
    return parse_message(body, signature, public_key, expected_sender="district", **kwargs)


def reject(body, signature, public_key, **kwargs) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse(body, signature, public_key, **kwargs)
    return caught.value


def sign_raw(private_key, data) -> tuple[bytes, str]:
    """Sign an arbitrary body (a well-signed message that is not a valid envelope)."""
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return body, sign(body, private_key)


# -- messages ------------------------------------------------------------------------------------------


def test_build_sign_parse_round_trip(district):
    message_id = protocol.new_message_id()
    body, signature = signed(district, message_id=message_id)
    envelope = parse(body, signature, district.public_key())
    assert envelope.id == message_id and envelope.type == "application.submit" and envelope.sender == "district"
    assert envelope.payload == PAYLOAD and envelope.sent_at == NOW
    # The body is the canonical form: sorted keys, no spaces, UTF-8 (not \\u escapes).
    assert body == protocol.canonical_json(json.loads(body))
    assert b" " not in body and "硬质合金".encode() in body
    assert list(json.loads(body)) == sorted(json.loads(body))


def test_build_body_defaults_to_now_in_utc():
    body = build_body(message_id=protocol.new_message_id(), message_type="case.status", sender="city", payload={})
    sent_at = dt.datetime.fromisoformat(json.loads(body)["sent_at"])
    assert sent_at.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - sent_at).total_seconds()) < 5
    # A local time is stamped in UTC.
    beijing = dt.datetime(2026, 6, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    body = build_body(message_id=protocol.new_message_id(), message_type="case.status", sender="city", payload={},
                      sent_at=beijing)
    assert json.loads(body)["sent_at"] == "2026-06-10T02:00:00+00:00"


def test_build_body_refuses_unknown_types_and_senders():
    with pytest.raises(ValueError):
        build_body(message_id=protocol.new_message_id(), message_type="case.deleted", sender="city", payload={})
    with pytest.raises(ValueError):
        build_body(message_id=protocol.new_message_id(), message_type="case.status", sender="province", payload={})


def test_fingerprint_survives_retries_but_not_other_content(district):
    message_id = protocol.new_message_id()
    first, _ = signed(district, message_id=message_id, sent_at=NOW)
    retry, _ = signed(district, message_id=message_id, sent_at=NOW + dt.timedelta(minutes=3))
    assert first != retry
    key = district.public_key()
    original = parse(first, sign(first, district), key)
    again = parse(retry, sign(retry, district), key, now=NOW + dt.timedelta(minutes=3))
    assert original.fingerprint == again.fingerprint
    assert original.fingerprint == protocol.message_fingerprint(message_id, "application.submit", "district", PAYLOAD)
    # Key order in the payload does not matter (canonical JSON); any change of content does.
    reordered = dict(reversed(list(PAYLOAD.items())))
    assert protocol.message_fingerprint(message_id, "application.submit", "district", reordered) == original.fingerprint
    other_payload = parse(*signed(district, message_id=message_id, payload={**PAYLOAD, "x": 1}), key)
    assert other_payload.fingerprint != original.fingerprint
    other_id = parse(*signed(district), key)
    assert other_id.fingerprint != original.fingerprint
    other_type = protocol.message_fingerprint(message_id, "application.supplement", "district", PAYLOAD)
    assert other_type != original.fingerprint


@pytest.mark.parametrize("signature", [None, ""])
def test_unsigned_is_401(district, signature):
    body, _ = signed(district)
    error = reject(body, signature, district.public_key())
    assert (error.code, error.status) == ("unsigned", 401)


@pytest.mark.parametrize("signature", ["!!not base64!!", "QUJD", base64.b64encode(b"\0" * 64).decode(), "QQ="])
def test_garbage_signature_is_401(district, signature):
    body, _ = signed(district)
    error = reject(body, signature, district.public_key())
    assert (error.code, error.status) == ("bad_signature", 401)


def test_wrong_key_is_401(district):
    body, signature = signed(Ed25519PrivateKey.generate())
    error = reject(body, signature, district.public_key())
    assert (error.code, error.status) == ("bad_signature", 401)


def test_tampered_body_is_401(district):
    body, signature = signed(district)
    tampered = body.replace(b"HT20260000001", b"HT20260000002")
    assert tampered != body
    error = reject(tampered, signature, district.public_key())
    assert (error.code, error.status) == ("bad_signature", 401)
    # Even whitespace counts: the signature covers the exact bytes.
    error = reject(body + b" ", signature, district.public_key())
    assert error.code == "bad_signature"


@pytest.mark.parametrize("offset", [-301, 301, -3600, 86400])
def test_outside_the_skew_window_is_expired(district, offset):
    body, signature = signed(district, sent_at=NOW + dt.timedelta(seconds=offset))
    error = reject(body, signature, district.public_key())
    assert (error.code, error.status) == ("expired", 401)


@pytest.mark.parametrize("offset", [-299, 0, 299])
def test_inside_the_skew_window_is_accepted(district, offset):
    body, signature = signed(district, sent_at=NOW + dt.timedelta(seconds=offset))
    assert parse(body, signature, district.public_key()).payload == PAYLOAD


def test_skew_window_is_configurable(district):
    body, signature = signed(district, sent_at=NOW - dt.timedelta(seconds=30))
    assert reject(body, signature, district.public_key(), max_skew_seconds=10).code == "expired"
    assert parse(body, signature, district.public_key(), max_skew_seconds=60)


def _envelope(**changes):
    data = {"id": "5f0c6a3e-2b1d-4c7e-9a8f-0d1e2f3a4b5c", "type": "application.submit", "sender": "district",
            "sent_at": NOW.isoformat(), "payload": {}}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


MALFORMED = {
    "not utf-8": b"\xff\xfe not utf-8",
    "not json": b"not json",
    "a list": [1, 2, 3],
    "a string": "a string",
    "no id": _envelope(id=...),
    "no payload": _envelope(payload=...),
    "an extra field": _envelope(extra="field"),
    "id not a uuid": _envelope(id="12345"),
    "id null": _envelope(id=None),
    "unknown type": _envelope(type="case.deleted"),
    "from the wrong side": _envelope(sender="city"),
    "unknown sender": _envelope(sender="province"),
    "payload a list": _envelope(payload=[1]),
    "payload a string": _envelope(payload="x"),
    "sent_at not a time": _envelope(sent_at="yesterday"),
    "sent_at without zone": _envelope(sent_at="2026-06-10T02:00:00"),
    "sent_at a number": _envelope(sent_at=12345),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_envelopes_are_400(district, data):
    body, signature = sign_raw(district, data)
    error = reject(body, signature, district.public_key())
    assert (error.code, error.status) == ("malformed", 400)
    assert json.loads(error.as_body()) == {"error": {"code": "malformed", "message": error.message}}


def test_signature_is_checked_before_anything_is_parsed(district):
    # An unsigned, malformed body is reported as unsigned: nothing unsigned is even parsed.
    assert reject(b"not json", None, district.public_key()).code == "unsigned"
    assert reject(b"not json", sign(b"other", district), district.public_key()).code == "bad_signature"


# -- replies -------------------------------------------------------------------------------------------


def test_reply_round_trip_and_checks(district):
    city = Ed25519PrivateKey.generate()
    message_id = protocol.new_message_id()
    body = build_reply(message_id, {"case_number": "ZZSP-2026-000001"})
    signature = sign(body, city)
    assert parse_reply(body, signature, city.public_key(), message_id=message_id) == {
        "case_number": "ZZSP-2026-000001"
    }
    # A reply to another message is not an acknowledgement of this one.
    with pytest.raises(ProtocolError) as caught:
        parse_reply(body, signature, city.public_key(), message_id=protocol.new_message_id())
    assert caught.value.code == "malformed"
    for bad_signature, code in ((None, "unsigned"), (sign(body, district), "bad_signature")):
        with pytest.raises(ProtocolError) as caught:
            parse_reply(body, bad_signature, city.public_key(), message_id=message_id)
        assert (caught.value.code, caught.value.status) == (code, 401)
    for data in (
        {"in_reply_to": message_id, "ok": False, "result": {}},
        {"in_reply_to": message_id, "ok": True, "result": [1]},
        {"in_reply_to": message_id, "ok": True},
        [message_id],
    ):
        raw = protocol.canonical_json(data)
        with pytest.raises(ProtocolError) as caught:
            parse_reply(raw, sign(raw, city), city.public_key(), message_id=message_id)
        assert caught.value.code == "malformed"
    with pytest.raises(ProtocolError):
        parse_reply(b"\xff", sign(b"\xff", city), city.public_key(), message_id=message_id)


# -- key material --------------------------------------------------------------------------------------


def test_generated_keys_load_from_pem_and_raw_base64():
    private_pem, public_pem = protocol.generate_keypair()
    private_key = protocol.load_private_key(private_pem)
    public_key = protocol.load_public_key(public_pem.decode())
    body = b"hello"
    public_key.verify(base64.b64decode(sign(body, private_key)), body)
    raw_private = base64.b64encode(private_key.private_bytes_raw()).decode()
    raw_public = base64.b64encode(public_key.public_bytes_raw()).decode()
    assert protocol.load_private_key(f"  {raw_private}\n").private_bytes_raw() == private_key.private_bytes_raw()
    assert protocol.load_public_key(raw_public).public_bytes_raw() == public_key.public_bytes_raw()
    assert protocol.public_key_of(private_key).public_bytes_raw() == public_key.public_bytes_raw()


def test_other_kinds_of_key_are_refused():
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    ec_public = ec_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValueError):
        protocol.load_private_key(ec_pem)
    with pytest.raises(ValueError):
        protocol.load_public_key(ec_public)
    with pytest.raises(ValueError):
        protocol.load_private_key(base64.b64encode(b"\1" * 31))


@pytest.fixture
def no_key_env(monkeypatch, settings, tmp_path):
    """No key variables set, an empty key directory, and no cached keys before or after."""
    for name in keys.KEY_FILES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    settings.ZHIYUAN_DATALINK_KEY_DIR = tmp_path / "empty"
    keys.clear_key_cache()
    yield monkeypatch
    keys.clear_key_cache()


def _signs_with(private_key, public_key) -> bool:
    public_key.verify(base64.b64decode(sign(b"x", private_key)), b"x")
    return True


def test_keys_from_environment_variables_pem_and_raw(no_key_env):
    district_pem, district_public_pem = protocol.generate_keypair()
    city = Ed25519PrivateKey.generate()
    no_key_env.setenv("ZHIYUAN_DATALINK_PRIVATE_KEY", district_pem.decode())
    no_key_env.setenv("ZHIYUAN_CITYSIM_DISTRICT_PUBLIC_KEY", district_public_pem.decode())
    no_key_env.setenv("ZHIYUAN_CITYSIM_PRIVATE_KEY", base64.b64encode(city.private_bytes_raw()).decode())
    city_public = base64.b64encode(city.public_key().public_bytes_raw()).decode()
    no_key_env.setenv("ZHIYUAN_DATALINK_CITY_PUBLIC_KEY", city_public)
    assert _signs_with(keys.district_private_key(), keys.citysim_district_public_key())
    assert _signs_with(keys.citysim_private_key(), keys.city_public_key())
    assert keys.citysim_private_key().private_bytes_raw() == city.private_bytes_raw()


def test_keys_from_files_named_by_file_variables(no_key_env, tmp_path):
    written = keys.write_keypair(tmp_path / "elsewhere", "district")
    assert written is not None
    private_path, public_path = written
    assert private_path.stat().st_mode & 0o777 == 0o600
    no_key_env.setenv("ZHIYUAN_DATALINK_PRIVATE_KEY_FILE", str(private_path))
    no_key_env.setenv("ZHIYUAN_CITYSIM_DISTRICT_PUBLIC_KEY_FILE", str(public_path))
    assert _signs_with(keys.district_private_key(), keys.citysim_district_public_key())
    # Without keys anywhere the error says where to put them.
    with pytest.raises(ImproperlyConfigured) as caught:
        keys.city_public_key()
    assert "ZHIYUAN_DATALINK_CITY_PUBLIC_KEY" in str(caught.value) and "keygen" in str(caught.value)


def test_keys_from_the_key_directory(no_key_env, settings, tmp_path):
    settings.ZHIYUAN_DATALINK_KEY_DIR = tmp_path / "keys"
    keys.write_keypair(settings.ZHIYUAN_DATALINK_KEY_DIR, "district")
    keys.write_keypair(settings.ZHIYUAN_DATALINK_KEY_DIR, "city")
    assert _signs_with(keys.district_private_key(), keys.citysim_district_public_key())
    assert _signs_with(keys.citysim_private_key(), keys.city_public_key())
    # keygen does not overwrite unless forced (and forgets the cached keys when it does).
    assert keys.write_keypair(settings.ZHIYUAN_DATALINK_KEY_DIR, "city") is None
    old = keys.citysim_private_key().private_bytes_raw()
    keys.write_keypair(settings.ZHIYUAN_DATALINK_KEY_DIR, "city", force=True)
    assert keys.citysim_private_key().private_bytes_raw() != old


def _bad_materials() -> list[str]:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    _, public_pem = protocol.generate_keypair()
    real_raw = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    return [
        "s3cr3t-Key-Material-That-Is-Not-A-Key",
        base64.b64encode(b"\x07" * 31).decode(),  # base64 of the wrong length
        real_raw[:-4] + "!!!!",  # almost a raw key
        ec_pem,  # another algorithm
        public_pem.decode(),  # a public key where the private one belongs
        # A PEM frame around something that is not a key.
        "-----BEGIN PRIVATE KEY-----\nTUlJQ0V3SUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBazB3\n-----END PRIVATE KEY-----",
    ]


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("source", ["env", "file"])
def test_bad_keys_are_reported_without_their_material(no_key_env, tmp_path, index, source):
    material = _bad_materials()[index]
    if source == "env":
        no_key_env.setenv("ZHIYUAN_DATALINK_PRIVATE_KEY", material)
    else:
        path = tmp_path / "district.key"
        path.write_text(material)
        no_key_env.setenv("ZHIYUAN_DATALINK_PRIVATE_KEY_FILE", str(path))
    with pytest.raises(ImproperlyConfigured) as caught:
        keys.district_private_key()
    message = str(caught.value)
    assert "ZHIYUAN_DATALINK_PRIVATE_KEY" in message
    for line in material.splitlines():
        # No line of the material, nor any sizeable piece of it, is echoed.
        stripped = line.strip()
        if stripped.startswith("-----"):
            continue
        for start in range(0, max(len(stripped) - 12, 1)):
            assert stripped[start:start + 12] not in message, (stripped, message)
