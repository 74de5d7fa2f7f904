"""The callback sender: delivers queued `case.status` messages to the district, signed, with retries.

Each attempt rebuilds the body with a fresh sent_at (same message id and payload, so the district can tell a
retry) and signs it with the city's key. A 2xx answer carrying a valid reply signed by the district settles
the callback; anything else is retried after an exponential backoff with full jitter,
uniform(0, min(cap, base * 2**attempts)), until the attempts run out and it is marked failed.

Callbacks of one case go out in version order: a case's next version waits until the previous one is
delivered or failed. Different cases are sent in parallel by a few worker threads.
"""

import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from zhiyuan.citysim.store import Store
from zhiyuan.datalink.protocol import (
    CONTENT_TYPE,
    INBOUND_PATH,
    SIGNATURE_HEADER,
    ProtocolError,
    build_body,
    parse_reply,
    sign,
)

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 30.0
TIMEOUT_SECONDS = 10.0


class CallbackSender(threading.Thread):
    """A daemon thread that sends due callbacks until stopped."""

    def __init__(
        self,
        store: Store,
        *,
        district_url: str,
        private_key: Ed25519PrivateKey,
        district_public_key: Ed25519PublicKey,
        max_attempts: int = 50,
        workers: int = 4,
        rng: random.Random | None = None,
    ):
        super().__init__(name="citysim-sender", daemon=True)
        self.store = store
        self.url = district_url.rstrip("/") + INBOUND_PATH
        self.private_key = private_key
        self.district_public_key = district_public_key
        self.max_attempts = max_attempts
        self.workers = workers
        self.rng = rng or random.Random()
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def wake(self) -> None:
        """Look for due callbacks now (a case has just changed)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client, ThreadPoolExecutor(self.workers) as pool:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    batch = self.store.due_callbacks(now=time.time(), limit=self.workers * 8)
                    if batch:
                        errors = list(pool.map(lambda row: self._attempt(client, row), batch))
                        self.store.record_attempts(
                            [self._settle(row, error) for row, error in zip(batch, errors, strict=True)]
                        )
                        if None in errors:
                            continue
                        # Nothing got through: the district is probably down; don't spin on fresh callbacks.
                        self._stopping.wait(0.5)
                        continue
                except Exception:
                    # The database was busy or closing; try again shortly rather than lose the thread.
                    logger.exception("citysim sender: could not process callbacks")
                self._wake.wait(0.5)

    def _attempt(self, client: httpx.Client, row) -> str | None:
        """Send one callback; None when the district acknowledged it, else what went wrong."""
        message_id = row["message_id"]
        body = build_body(
            message_id=message_id, message_type="case.status", sender="city", payload=json.loads(row["payload"])
        )
        headers = {"Content-Type": CONTENT_TYPE, SIGNATURE_HEADER: sign(body, self.private_key)}
        try:
            response = client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"
        if not response.is_success:
            return f"HTTP {response.status_code}: {response.text[:300]}"
        try:
            parse_reply(
                response.content, response.headers.get(SIGNATURE_HEADER), self.district_public_key,
                message_id=message_id,
            )
        except ProtocolError as error:
            return f"untrusted reply: {error.message}"
        return None

    def _settle(self, row, error: str | None) -> tuple[str, str | None, float | None]:
        message_id, attempts = row["message_id"], row["attempts"] + 1
        if error is None:
            return message_id, None, None
        if attempts >= self.max_attempts:
            logger.warning("citysim: callback %s failed after %d attempts: %s", message_id, attempts, error)
            return message_id, error, None
        delay = self.rng.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempts))
        logger.info("citysim: callback %s attempt %d failed (%s); retry in %.1f s", message_id, attempts, error, delay)
        return message_id, error, time.time() + delay
