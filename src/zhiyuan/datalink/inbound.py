"""The endpoint the city posts its messages to. Authenticated by the message signature alone
(no session, no CSRF token: the city is a machine), so it lives apart from the staff pages."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zhiyuan.datalink.protocol import CONTENT_TYPE, SIGNATURE_HEADER
from zhiyuan.datalink.services import inbound_receive

# The request headers kept in the message log (the signature is kept in its own column).
LOGGED_HEADERS = frozenset({"content-type", "content-length", "user-agent", "x-forwarded-for"})


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    reply = inbound_receive(
        body=request.body,
        signature=request.headers.get(SIGNATURE_HEADER),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
        headers={name: value for name, value in request.headers.items() if name.lower() in LOGGED_HEADERS},
    )
    response = HttpResponse(reply.body, status=reply.status, content_type=CONTENT_TYPE)
    for name, value in reply.headers.items():
        response[name] = value
    return response
