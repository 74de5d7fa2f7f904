"""Transport adapters: how an outbox message reaches the city.

Approvals only writes (type, payload) into the outbox; the adapter named by ZHIYUAN_DATALINK_ADAPTER
turns it into whatever the city's system understands and reports one DeliveryOutcome. The default,
SignedHttpAdapter, speaks Zhiyuan's own protocol (datalink.protocol) to citysim or to a city that
implements it; the real city centre's API is added as another adapter class, without touching approvals.
"""

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from zhiyuan.datalink import keys
from zhiyuan.datalink.protocol import (
    CONTENT_TYPE,
    DUPLICATE_HEADER,
    INBOUND_PATH,
    SIGNATURE_HEADER,
    ProtocolError,
    build_body,
    parse_reply,
    sign,
)

# HTTP statuses worth retrying: the city was busy, down or unreachable. Any other 4xx means the city
# refused this message as it is, so it goes to the dead letters for a person to look at.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


@dataclass
class DeliveryOutcome:
    """What one attempt achieved, and what was sent (for the message log)."""

    ok: bool
    retryable: bool
    status: int | None = None
    result: dict[str, Any] | None = None
    error: str = ""
    duplicate: bool = False
    duration_ms: int = 0
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    signature: str = ""
    reply_body: str = ""


class CityAdapter(ABC):
    """The interface every transport implements: deliver one message, report what happened."""

    @abstractmethod
    def deliver(self, *, message_id: str, message_type: str, payload: dict[str, Any]) -> DeliveryOutcome:
        """Send one message to the city once; never raise for a failure of the city or the network."""


class SignedHttpAdapter(CityAdapter):
    """Zhiyuan's protocol: the signed envelope POSTed to the city's inbound URL, a signed reply back."""

    def __init__(self, base_url: str | None = None, timeout: float | None = None):
        self.url = (base_url or settings.ZHIYUAN_DATALINK_CITY_URL).rstrip("/") + INBOUND_PATH
        self.client = httpx.Client(timeout=timeout or settings.ZHIYUAN_DATALINK_TIMEOUT_SECONDS)

    def deliver(self, *, message_id: str, message_type: str, payload: dict[str, Any]) -> DeliveryOutcome:
        body = build_body(message_id=message_id, message_type=message_type, sender="district", payload=payload)
        signature = sign(body, keys.district_private_key())
        headers = {"Content-Type": CONTENT_TYPE, SIGNATURE_HEADER: signature}
        outcome = DeliveryOutcome(
            ok=False, retryable=True, request_headers={"Content-Type": CONTENT_TYPE},
            request_body=body.decode("utf-8"), signature=signature,
        )
        started = time.monotonic()
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            outcome.error = f"{type(error).__name__}: {error}"
            outcome.duration_ms = int((time.monotonic() - started) * 1000)
            return outcome
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        outcome.status = response.status_code
        outcome.reply_body = response.text[:4000]
        outcome.duplicate = response.headers.get(DUPLICATE_HEADER) == "1"
        if response.is_success:
            try:
                outcome.result = parse_reply(
                    response.content, response.headers.get(SIGNATURE_HEADER), keys.city_public_key(),
                    message_id=message_id,
                )
            except ProtocolError as error:
                # A reply we cannot trust is no acknowledgement: send again, the city answers a duplicate.
                outcome.error = f"untrusted reply: {error.message}"
                return outcome
            outcome.ok, outcome.retryable = True, False
            return outcome
        outcome.error = f"HTTP {response.status_code}: {response.text[:500]}"
        outcome.retryable = response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES
        return outcome


@cache
def city_adapter() -> CityAdapter:
    """The configured adapter, one per process (its HTTP client keeps connections open)."""
    return import_string(settings.ZHIYUAN_DATALINK_ADAPTER)()
