"""Meta's ``signed_request``: what Meta POSTs to an app's Deauthorize and
Data Deletion callbacks.

Format (https://developers.facebook.com/docs/reference/login/signed-request/,
https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/):
``<signature>.<payload>``, both base64url without padding; the payload is a
JSON object such as ``{"algorithm": "HMAC-SHA256", "issued_at": 1790000000,
"user_id": "218471"}`` and the signature is HMAC-SHA256, keyed with the app
secret, over the *encoded* payload part exactly as received.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import datetime

from .errors import SignatureError
from .times import parse_time

#: Meta's signed requests are a few hundred bytes; anything far larger is not one.
MAX_LENGTH = 8 * 1024
#: Age past which a request is refused (seconds). Meta posts the callback
#: when the person acts; a day leaves room for Odoo being down or behind a
#: slow proxy for hours, while a request captured in transit or logged
#: somewhere cannot be replayed months later (one of 400 days disconnected
#: a connection made again since). The check is on by default: a caller that
#: forgets it is exactly how the callbacks once ran without one.
MAX_AGE_SECONDS = 24 * 3600
#: A request dated this far in the future is refused: clocks differ a
#: little, Meta does not date its requests ahead.
FUTURE_SKEW_SECONDS = 300


class SignedRequestError(SignatureError):
    """A ``signed_request`` is malformed, forged or stale."""


@dataclass(frozen=True)
class SignedRequest:
    """A verified ``signed_request``."""

    user_id: str
    algorithm: str
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    payload: dict = field(default_factory=dict, compare=False, repr=False)


def _b64decode(text):
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SignedRequestError("signed_request is not base64url") from None


def _check_age(issued_at, now, max_age):
    if issued_at is None:
        raise SignedRequestError("signed_request has no issued_at")
    age = now - issued_at.timestamp()
    if age < -FUTURE_SKEW_SECONDS:
        raise SignedRequestError("signed_request is dated in the future")
    if age > max_age:
        raise SignedRequestError("signed_request is stale")


def _split(value):
    """(signature part, payload part) of a well-shaped ``signed_request``."""
    if not isinstance(value, str) or not value:
        raise SignedRequestError("signed_request is missing")
    if len(value) > MAX_LENGTH:
        raise SignedRequestError("signed_request is too long")
    parts = value.split(".")
    if len(parts) != 2 or not all(parts) or not all(p.isascii() for p in parts):
        raise SignedRequestError("signed_request is not <signature>.<payload>")
    return parts


def _verify_signature(encoded_payload, signature, secrets):
    """Raise unless one of ``secrets`` signed the payload part as received."""
    if len(signature) != hashlib.sha256().digest_size:
        raise SignedRequestError("signed_request signature has the wrong length")
    secrets = [s for s in secrets if s]
    if not secrets:
        raise SignedRequestError("no app secret is configured")
    matched = False
    for secret in secrets:
        expected = hmac.new(
            secret.encode(), encoded_payload.encode(), hashlib.sha256
        ).digest()
        matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise SignedRequestError("signed_request signature does not match")


def _decode_payload(encoded_payload):
    """The payload part as the JSON object it must be."""
    try:
        payload = json.loads(_b64decode(encoded_payload))
    except (ValueError, UnicodeDecodeError):
        raise SignedRequestError("signed_request payload is not JSON") from None
    if not isinstance(payload, dict):
        raise SignedRequestError("signed_request payload is not an object")
    return payload


def _algorithm(payload):
    algorithm = payload.get("algorithm")
    if not isinstance(algorithm, str) or algorithm.upper() != "HMAC-SHA256":
        raise SignedRequestError("signed_request algorithm is not HMAC-SHA256")
    return algorithm


def _user_id(payload):
    """The person's app-scoped id as a digit string (Meta may send a number)."""
    user_id = payload.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id.isascii() or not user_id.isdigit():
        raise SignedRequestError("signed_request has no valid user_id")
    return user_id


def parse_signed_request(value, secrets, *, now=None, max_age=MAX_AGE_SECONDS):
    """Verify ``value`` against the app ``secrets`` and return its content.

    :param secrets: the current app secret, then the previous one during a
        rotation; empty ones are ignored. Every secret is compared (constant
        time, no early exit), like webhook signatures.
    :param now: Unix time to judge the age by (tests); the clock otherwise.
    :param max_age: seconds (a day by default): a request issued longer ago,
        dated more than :data:`FUTURE_SKEW_SECONDS` ahead or without
        ``issued_at`` is refused. ``None`` turns the check off (tools that
        read an old request, never a callback route).
    :raises SignedRequestError: with a reason that never contains a secret
        or the value itself.
    """
    encoded_signature, encoded_payload = _split(value)
    _verify_signature(encoded_payload, _b64decode(encoded_signature), secrets)
    payload = _decode_payload(encoded_payload)
    algorithm, user_id = _algorithm(payload), _user_id(payload)
    issued_at = parse_time(payload.get("issued_at"))
    if max_age is not None:
        _check_age(issued_at, time.time() if now is None else now, max_age)
    return SignedRequest(
        user_id=user_id,
        algorithm=algorithm.upper(),
        issued_at=issued_at,
        expires_at=parse_time(payload.get("expires"))
        if payload.get("expires")
        else None,
        payload=payload,
    )
