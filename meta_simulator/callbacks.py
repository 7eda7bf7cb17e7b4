"""Meta's app callbacks, sent to an app: Deauthorize and Data Deletion.

When a person removes the app (Deauthorize) or asks Meta to delete what the
app holds about them (Data Deletion Request), Meta POSTs a form-encoded
``signed_request`` to the URL set in the App Dashboard
(https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/,
format: https://developers.facebook.com/docs/reference/login/signed-request/).
The data deletion callback must answer JSON ``{"url": <status page>,
"confirmation_code": <code>}``, which Meta shows to the person.
"""

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def signed_request(payload: dict, secret: str) -> str:
    """``base64url(HMAC-SHA256(secret, encoded payload)).encoded payload``."""
    encoded = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return f"{_b64(signature)}.{encoded}"


@dataclass
class CallbackResult:
    """One callback Meta sent, and what the app answered."""

    kind: str  # "deauthorize" | "data_deletion"
    url: str
    user_id: str
    status: int
    body: bytes
    answer: dict | None = None
    #: the data deletion answer has Meta's required shape
    valid: bool = False
    error: str = ""
    form: dict = field(default_factory=dict, repr=False)


def send(kind: str, url: str, payload: dict, secret: str, timeout: float = 10):
    """POST ``signed_request`` as Meta does; return a :class:`CallbackResult`."""
    form = {"signed_request": signed_request(payload, secret)}
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    result = CallbackResult(
        kind, url, str(payload.get("user_id")), status, body, form=form
    )
    if kind == "data_deletion" and status == 200:
        try:
            answer = json.loads(body)
        except ValueError:
            result.error = "the answer is not JSON"
            return result
        result.answer = answer if isinstance(answer, dict) else None
        result.valid = bool(
            result.answer
            and isinstance(result.answer.get("url"), str)
            and result.answer["url"].startswith(("http://", "https://"))
            and isinstance(result.answer.get("confirmation_code"), str)
            and result.answer["confirmation_code"]
        )
        if not result.valid:
            result.error = "the answer lacks url or confirmation_code"
    return result
