"""Meta's signed_request (Deauthorize and Data Deletion callbacks)."""

import base64
import hashlib
import hmac
import json

import pytest

from graph.signed_request import (
    FUTURE_SKEW_SECONDS,
    MAX_AGE_SECONDS,
    SignedRequestError,
    parse_signed_request,
)
from meta_simulator.callbacks import signed_request

SECRET = "app_secret_for_tests"
NOW = 1790000000


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(payload, secret=SECRET, pad=False):
    """Built here independently of the simulator's signer."""
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    head = b64(signature)
    if pad:  # the signature part with its padding; the signed part as sent
        head += "=" * (-len(head) % 4)
    return f"{head}.{body}"


PAYLOAD = {"algorithm": "HMAC-SHA256", "issued_at": NOW, "user_id": "218471"}


def test_a_request_signed_as_meta_does_is_read():
    request = parse_signed_request(forge(PAYLOAD), [SECRET], now=NOW)
    assert request.user_id == "218471"
    assert request.algorithm == "HMAC-SHA256"
    assert request.issued_at.timestamp() == NOW
    assert request.payload["user_id"] == "218471"


def test_round_trip_and_padding():
    assert (
        parse_signed_request(signed_request(PAYLOAD, SECRET), [SECRET], now=NOW).user_id
        == "218471"
    )
    assert (
        parse_signed_request(forge(PAYLOAD, pad=True), [SECRET], now=NOW).user_id
        == "218471"
    )


def test_the_previous_secret_is_accepted_during_a_rotation():
    request = forge(PAYLOAD, secret="old")
    assert (
        parse_signed_request(request, ["new", "old", ""], now=NOW).user_id == "218471"
    )


def test_numeric_user_id_and_lowercase_algorithm():
    payload = {**PAYLOAD, "user_id": 218471, "algorithm": "hmac-sha256"}
    assert parse_signed_request(forge(payload), [SECRET], now=NOW).user_id == "218471"


@pytest.mark.parametrize(
    ("request_", "why"),
    [
        (forge(PAYLOAD, secret="wrong"), "does not match"),
        (
            forge(PAYLOAD).split(".")[0] + "." + b64(b'{"user_id":"1"}'),
            "does not match",
        ),
        ("AAAA" + forge(PAYLOAD)[4:], "does not match"),
        (forge({**PAYLOAD, "algorithm": "HMAC-SHA1"}), "algorithm"),
        (forge({"algorithm": "HMAC-SHA256"}), "user_id"),
        (forge({**PAYLOAD, "user_id": "12ab"}), "user_id"),
        (forge({**PAYLOAD, "user_id": True}), "user_id"),
        (forge(["not", "an", "object"]), "not an object"),
        ("", "missing"),
        (".", "signature>.<payload"),
        ("a.b.c", "signature>.<payload"),
        ("a.b", "base64"),
        (b64(b"short") + "." + b64(b"{}"), "wrong length"),
        ("x" * 9000, "too long"),
        (None, "missing"),
        (12, "missing"),
    ],
)
def test_refused(request_, why):
    with pytest.raises(SignedRequestError) as caught:
        parse_signed_request(request_, [SECRET], now=NOW)
    assert why in str(caught.value)
    assert SECRET not in str(caught.value)


def test_no_secret_configured():
    with pytest.raises(SignedRequestError, match="no app secret"):
        parse_signed_request(forge(PAYLOAD), ["", None], now=NOW)


def test_payload_that_is_not_json():
    body = b64(b"not json")
    signature = b64(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())
    with pytest.raises(SignedRequestError, match="not JSON"):
        parse_signed_request(f"{signature}.{body}", [SECRET], now=NOW)


def test_max_age():
    request = forge(PAYLOAD)
    assert parse_signed_request(request, [SECRET], now=NOW + 60, max_age=3600)
    with pytest.raises(SignedRequestError, match="stale"):
        parse_signed_request(request, [SECRET], now=NOW + 7200, max_age=3600)
    with pytest.raises(SignedRequestError, match="future"):
        parse_signed_request(request, [SECRET], now=NOW - 3600, max_age=3600)
    # max_age=None turns the check off (a tool reading an old request)
    assert parse_signed_request(request, [SECRET], now=NOW + 10**8, max_age=None)
    with pytest.raises(SignedRequestError, match="issued_at"):
        parse_signed_request(
            forge({k: v for k, v in PAYLOAD.items() if k != "issued_at"}),
            [SECRET],
            max_age=3600,
        )


def test_expires_is_read():
    request = parse_signed_request(
        forge({**PAYLOAD, "expires": NOW + 10}), [SECRET], now=NOW
    )
    assert request.expires_at.timestamp() == NOW + 10


def test_stale_and_future_requests_are_refused_by_default():
    """A caller that passes no max_age still gets the age check: a request
    issued 400 days ago, or dated after the skew, is refused."""
    day = 24 * 3600
    old = forge({**PAYLOAD, "issued_at": NOW - 400 * day})
    with pytest.raises(SignedRequestError, match="stale"):
        parse_signed_request(old, [SECRET], now=NOW)
    future = forge({**PAYLOAD, "issued_at": NOW + FUTURE_SKEW_SECONDS + 1})
    with pytest.raises(SignedRequestError, match="future"):
        parse_signed_request(future, [SECRET], now=NOW)
    # a little clock difference, and a request of a few hours, pass
    near = forge({**PAYLOAD, "issued_at": NOW + FUTURE_SKEW_SECONDS})
    assert parse_signed_request(near, [SECRET], now=NOW).user_id == "218471"
    assert parse_signed_request(forge(PAYLOAD), [SECRET], now=NOW + 6 * 3600)
    with pytest.raises(SignedRequestError, match="stale"):
        parse_signed_request(forge(PAYLOAD), [SECRET], now=NOW + MAX_AGE_SECONDS + 1)
    with pytest.raises(SignedRequestError, match="issued_at"):
        parse_signed_request(
            forge({k: v for k, v in PAYLOAD.items() if k != "issued_at"}),
            [SECRET],
            now=NOW,
        )
