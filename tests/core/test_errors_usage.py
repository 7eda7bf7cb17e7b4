"""Error classification by code/subcode and usage-header parsing (§9.1, §9.2)."""

import json

import pytest

from graph import errors
from graph.client import appsecret_proof, error_from_body, scrub_url
from graph.errors import (
    AppError,
    InvalidRequestError,
    MissingPermissionError,
    NotFoundError,
    RateLimitError,
    TokenError,
    TransientError,
    UnavailableObjectError,
    UnknownGraphError,
)
from graph.usage import Usage


def _body(code, subcode=None, transient=None, message="(#x) something"):
    error = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    error["fbtrace_id"] = "AbC"
    return {"error": error}


@pytest.mark.parametrize(
    ("code", "subcode", "status", "expected"),
    [
        (190, None, 400, TokenError),
        (190, 460, 400, TokenError),
        (190, 463, 400, TokenError),
        (190, 467, 400, TokenError),
        (102, None, 400, TokenError),
        (10, None, 400, MissingPermissionError),
        # outside the messaging window: the message fails, nothing to repair
        (10, 2018278, 400, UnavailableObjectError),
        (10, 2534022, 403, UnavailableObjectError),
        (10, 2018300, 400, UnavailableObjectError),  # another app owns the thread
        # a profile the person did not consent to share: that person only
        (230, None, 400, UnavailableObjectError),
        (551, 1545041, 400, UnavailableObjectError),  # person unavailable
        (3, None, 400, AppError),
        (10, 1893063, 400, MissingPermissionError),  # Page restricted
        (200, None, 403, MissingPermissionError),
        (299, None, 400, MissingPermissionError),
        (4, None, 400, RateLimitError),
        (17, 2446079, 400, RateLimitError),
        (32, None, 400, RateLimitError),
        (613, 1487742, 400, RateLimitError),
        (80005, None, 400, RateLimitError),
        (80006, None, 400, RateLimitError),
        (1, None, 500, TransientError),
        (2, None, 503, TransientError),
        (2, None, 400, TransientError),
        (100, 33, 400, NotFoundError),
        (803, None, 400, NotFoundError),
        (100, None, 400, InvalidRequestError),
        (2635, None, 400, InvalidRequestError),
        (368, None, 400, InvalidRequestError),
        (99999, None, 500, TransientError),
    ],
)
def test_error_classification_by_code(code, subcode, status, expected):
    error = error_from_body(_body(code, subcode), http_status=status)
    assert type(error) is expected
    assert error.code == code
    assert error.subcode == subcode
    assert error.fbtrace_id == "AbC"


@pytest.mark.parametrize(
    ("code", "subcode", "status", "scope"),
    [
        (190, 460, 400, errors.TOKEN),
        (102, None, 400, errors.TOKEN),
        (3, None, 400, errors.APP),
        (10, None, 400, errors.PERMISSION),
        (200, None, 403, errors.PERMISSION),
        (230, None, 400, errors.OBJECT),
        (551, None, 400, errors.OBJECT),
        (10, 2018278, 400, errors.OBJECT),
        (100, 33, 400, errors.OBJECT),
        (803, None, 400, errors.OBJECT),
        (100, None, 400, errors.REQUEST),
        (4, None, 400, errors.THROTTLE),
        (613, None, 400, errors.THROTTLE),
        (2, None, 503, errors.TRANSIENT),
    ],
)
def test_every_error_says_what_it_concerns(code, subcode, status, scope):
    error = error_from_body(_body(code, subcode), http_status=status)
    assert error.scope == scope
    # only the token and the app concern a whole connection
    assert (scope in errors.CONNECTION_SCOPES) == (scope in (errors.TOKEN, errors.APP))


def test_a_profile_meta_will_not_give_is_never_a_missing_permission():
    """Meta's 230 on an Instagram profile lookup is about one person: it
    must not read as a permission the connection lacks."""
    error = error_from_body(
        _body(230, message="(#230) User consent is required to access user profile")
    )
    assert not isinstance(error, MissingPermissionError)
    assert error.scope == errors.OBJECT


def test_is_transient_flag_wins_over_code():
    error = error_from_body(_body(100, transient=True), http_status=400)
    assert isinstance(error, TransientError)
    assert error.retryable


def test_message_text_is_never_used_for_classification():
    # A 190 with a message that talks about rate limits is still a token error.
    body = _body(190, message="(#4) Application request limit reached")
    assert isinstance(error_from_body(body, http_status=400), TokenError)


def test_non_meta_bodies():
    assert isinstance(error_from_body(None, http_status=502), TransientError)
    assert isinstance(error_from_body("oops", http_status=404), UnknownGraphError)
    assert isinstance(
        error_from_body({"error": "x"}, http_status=400), UnknownGraphError
    )


def test_rate_limit_retry_after_from_usage_headers():
    headers = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "1111": [
                    {
                        "type": "leadgen",
                        "call_count": 100,
                        "total_cputime": 20,
                        "total_time": 30,
                        "estimated_time_to_regain_access": 7,
                    }
                ]
            }
        )
    }
    error = error_from_body(_body(80005), http_status=400, headers=headers)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7 * 60


def test_rate_limit_without_headers_has_a_default_wait():
    error = error_from_body(_body(4), http_status=400, headers={})
    assert error.retry_after == 60


def test_error_text_names_code_and_trace():
    text = str(error_from_body(_body(190, 460), http_status=400))
    assert "code 190/460" in text
    assert "fbtrace_id AbC" in text


def test_appsecret_proof_vectors():
    # docs/meta-facts.md §2.3 test vectors
    assert (
        appsecret_proof("test_app_secret", "EAAtoken123")
        == "ebc1b8c0a6dcee2ee0b03ff5830bbbffa064cc145ec3cfcc3222721ac3a18d47"
    )
    assert (
        appsecret_proof("test_app_secret", "EAAtoken123", 1790000000)
        == "c0c9c0793c0979d46fadf7031efc21a0ddb7ba2ba751a4698d8e5872a77ff62f"
    )


def test_scrub_url_hides_every_credential():
    url = (
        "http://h/v26.0/debug_token?input_token=SECRET1&access_token=SECRET2"
        "&appsecret_proof=SECRET3&fields=id,name"
    )
    scrubbed = scrub_url(url)
    for secret in ("SECRET1", "SECRET2", "SECRET3"):
        assert secret not in scrubbed
    assert "fields=id,name" in scrubbed
    assert scrub_url("http://h/v26.0/me") == "http://h/v26.0/me"


def test_usage_parsing():
    usage = Usage.from_headers(
        {
            "X-App-Usage": '{"call_count":28,"total_cputime":25,"total_time":80}',
            "X-Business-Use-Case-Usage": json.dumps(
                {
                    "1111": [
                        {
                            "type": "pages",
                            "call_count": 3,
                            "total_cputime": 1,
                            "total_time": 1,
                            "estimated_time_to_regain_access": 0,
                        }
                    ],
                    "2222": "not a list",
                }
            ),
            "X-Ad-Account-Usage": '{"acc_id_util_pct":9.67}',
        }
    )
    assert usage.app["call_count"] == 28
    assert list(usage.business) == ["1111"]
    assert usage.max_percent() == 80
    assert usage.regain_seconds() == 0
    assert not usage.is_empty


@pytest.mark.parametrize(
    "headers",
    [
        {},
        None,
        {"X-App-Usage": "not json"},
        {"X-App-Usage": "[1,2]"},
        {"X-Business-Use-Case-Usage": "{bad"},
    ],
)
def test_usage_tolerates_garbage(headers):
    usage = Usage.from_headers(headers)
    assert usage.max_percent() == 0
    assert usage.regain_seconds() == 0


def test_quoted_meta_words_sit_in_a_sentence_without_a_double_stop():
    from graph.errors import TokenError, quoted

    error = TokenError(
        "Error validating access token: the user changed their password.",
        code=190,
        subcode=460,
        http_status=400,
    )
    assert "| code 190" in str(error)  # the log keeps the details
    assert quoted(error) == (
        "“Error validating access token: the user changed their password”"
    )
    assert f"reddetti: {quoted(error)}.".count("..") == 0
    assert quoted("  Too   many calls. ") == "“Too   many calls”".replace("   ", " ")
    assert quoted("") == ""
