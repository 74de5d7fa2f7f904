"""Which business code handles which message type, so the data link knows nothing about approvals.

An app registers, at start-up (AppConfig.ready):
- an inbound handler per message type from the city: `handler(envelope) -> result dict`, run inside
  the transaction that records the message, so the effect and the de-duplication record commit
  together; a DomainError from it rejects the message (4xx) and changes nothing;
- a delivery handler per outgoing type: `handler(message, result)`, run inside the transaction that
  marks the outbox message delivered, with the city's reply (e.g. the case number it assigned).
"""

from collections.abc import Callable
from typing import Any

InboundHandler = Callable[[Any], dict]
DeliveryHandler = Callable[[Any, dict], None]

_inbound: dict[str, InboundHandler] = {}
_delivered: dict[str, DeliveryHandler] = {}


def on_inbound(message_type: str) -> Callable[[InboundHandler], InboundHandler]:
    def register(handler: InboundHandler) -> InboundHandler:
        _inbound[message_type] = handler
        return handler

    return register


def on_delivered(message_type: str) -> Callable[[DeliveryHandler], DeliveryHandler]:
    def register(handler: DeliveryHandler) -> DeliveryHandler:
        _delivered[message_type] = handler
        return handler

    return register


def inbound_handler(message_type: str) -> InboundHandler | None:
    return _inbound.get(message_type)


def delivery_handler(message_type: str) -> DeliveryHandler | None:
    return _delivered.get(message_type)
