"""Hostile or broken input: it is refused alone, never sinks its neighbours,
never reaches a Graph path, and credentials never reach a log line."""

import json
import logging

import pytest

from graph import api
from graph.client import GraphClient
from graph.errors import InvalidRequestError, MalformedPayloadError, NotFoundError
from graph.ids import InvalidIdError, is_node_id, node_id
from graph.redact import RedactingFilter, scrub_text
from graph.webhook import (
    MAX_KEY_LENGTH,
    LeadgenEvent,
    MalformedEvent,
    event_from_record,
    parse_delivery,
)
from meta_simulator import payloads

APP_SECRET = "sim_app_secret"
PAGE = "1111"


def leadgen(leadgen_id, form_id="3333", page_id=PAGE):
    return {
        "field": "leadgen",
        "value": {
            "leadgen_id": leadgen_id,
            "form_id": form_id,
            "page_id": page_id,
            "created_time": 1790000000,
        },
    }


def delivery(*changes, entry_id=PAGE):
    return {
        "object": "page",
        "entry": [{"id": entry_id, "time": 1790000000, "changes": list(changes)}],
    }


def storable(record):
    """What PostgreSQL's jsonb accepts: no NUL, no unpaired surrogate."""
    text = json.dumps(record, ensure_ascii=True)
    text.encode("utf-8")  # a lone surrogate would fail here with ensure_ascii off
    return "\\u0000" not in text and "\\ud8" not in text and "\\udc" not in text


# ----------------------------------------------------------------- ids


@pytest.mark.parametrize(
    "value",
    ["900000000000001", 900000000000001, "5555_6666", "1_2_3", "act_1234"],
)
def test_meta_ids(value):
    assert is_node_id(node_id(value))


@pytest.mark.parametrize(
    "value",
    [
        "../../me/accounts",
        "123/leads",
        "123?fields=access_token",
        "me",
        "",
        "12\x0034",
        "9" * 33,
        "１２３",  # full-width digits: isdigit() says yes, Meta says no
        None,
        True,
        {"id": 1},
    ],
)
def test_not_meta_ids(value):
    with pytest.raises(InvalidIdError):
        node_id(value)


# ------------------------------------------------------- one bad update


@pytest.mark.parametrize(
    ("bad_change", "reason"),
    [
        (leadgen("9000\x000001"), "NUL"),
        (leadgen("900000000000002", form_id="33\ud83333"), "surrogate"),
        (leadgen("9" * 5000), "not a Meta object id"),
        (leadgen("../../me/accounts"), "not a Meta object id"),
        (
            {
                "field": "feed",
                "value": {"item": "comment", "comment_id": "1_2", "message": "a\x00b"},
            },
            "NUL",
        ),
    ],
)
def test_one_bad_update_is_malformed_alone(bad_change, reason):
    body = json.dumps(
        delivery(leadgen("900000000000001"), bad_change, leadgen("900000000000003"))
    ).encode()
    first, bad, last = parse_delivery(body)
    assert isinstance(first, LeadgenEvent) and first.leadgen_id == "900000000000001"
    assert isinstance(last, LeadgenEvent) and last.leadgen_id == "900000000000003"
    assert isinstance(bad, MalformedEvent)
    assert reason in bad.reason
    assert storable(bad.to_record())
    assert len(bad.key) <= MAX_KEY_LENGTH
    # what is stored can be read back and is still malformed, not retried
    assert isinstance(event_from_record(bad.to_record()), MalformedEvent)


def _with_raw(payload, raw):
    """``payload`` as Meta's bytes, its ``"@RAW@"`` placeholder replaced by
    the JSON text ``raw`` (what ``json.dumps`` would never write)."""
    return json.dumps(payload).replace('"@RAW@"', raw).encode()


_DEEP = "[" * 40 + "1" + "]" * 40


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("NaN", "not a number"),
        ("Infinity", "not a number"),
        ("-Infinity", "not a number"),
        ("1e999", "not a number"),
        ("9" * 5000, "digits"),
        ("-" + "9" * 5000, "digits"),
        ("0." + "1" * 5000, "digits"),
        (_DEEP, "nested too deeply"),
        ("[" * 10000 + "]" * 10000, "nested too deeply"),
    ],
    ids=lambda value: value if len(value) < 20 else f"{value[:3]}…({len(value)})",
)
def test_a_value_json_cannot_hold_refuses_its_update_alone(raw, reason):
    """NaN, Infinity, a number of thousands of digits (Python refuses above
    4300) or a value nested 40 levels deep: the update holding it is
    malformed, its neighbours are kept."""
    bad = leadgen("900000000000002")
    bad["value"]["created_time"] = "@RAW@"
    body = _with_raw(
        delivery(leadgen("900000000000001"), bad, leadgen("900000000000003")), raw
    )
    first, bad, last = parse_delivery(body)
    assert isinstance(first, LeadgenEvent) and first.leadgen_id == "900000000000001"
    assert isinstance(last, LeadgenEvent) and last.leadgen_id == "900000000000003"
    assert isinstance(bad, MalformedEvent)
    assert reason in bad.reason
    assert storable(bad.to_record())
    assert bad.item["value"]["leadgen_id"] == "900000000000002", "the rest is kept"
    stored = event_from_record(json.loads(json.dumps(bad.to_record(), allow_nan=False)))
    assert isinstance(stored, MalformedEvent)


def test_a_bad_value_in_an_entry_refuses_that_entry_alone():
    body = {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": "@RAW@", "changes": [leadgen("900000000000001")]},
            {"id": PAGE, "time": 1790000000, "changes": [leadgen("900000000000002")]},
        ],
    }
    bad, good = parse_delivery(_with_raw(body, "NaN"))
    assert isinstance(bad, MalformedEvent) and bad.item_type == "entry"
    assert "not a number" in bad.reason
    assert storable(bad.to_record())
    json.dumps(bad.to_record(), allow_nan=False)
    assert isinstance(good, LeadgenEvent) and good.leadgen_id == "900000000000002"


def test_a_bad_value_in_a_message_refuses_that_message_alone():
    items = [
        payloads.messenger_message(PAGE, "24000000000001", f"m_{i}", "Merhaba")[
            "entry"
        ][0]["messaging"][0]
        for i in range(3)
    ]
    items[1]["timestamp"] = "@RAW@"
    body = {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": items}]}
    first, bad, last = parse_delivery(_with_raw(body, "Infinity"))
    assert (first.mid, last.mid) == ("m_0", "m_2")
    assert isinstance(bad, MalformedEvent) and bad.item_type == "messaging"
    json.dumps(bad.to_record(), allow_nan=False)


def test_oversized_message_id_is_malformed_with_a_bounded_key():
    item = payloads.messenger_message(PAGE, "24000000000001", "m_" + "A" * 4000, "hi")
    (event,) = parse_delivery(json.dumps(item).encode())
    assert isinstance(event, MalformedEvent)
    assert len(event.key) <= MAX_KEY_LENGTH


def test_an_entry_id_that_is_no_meta_id_routes_nothing():
    body = json.dumps(
        delivery(leadgen("900000000000001"), entry_id="1111/../../me")
    ).encode()
    (event,) = parse_delivery(body)
    assert isinstance(event, MalformedEvent)
    assert event.account_id == ""
    assert "entry id" in event.reason


@pytest.mark.parametrize("obj", ["pa\x00ge", "x" * 65, "", 42, "Page Admin"])
def test_an_envelope_object_that_is_no_meta_object_refuses_the_delivery(obj):
    with pytest.raises(MalformedPayloadError):
        parse_delivery({"object": obj, "entry": []})


# ---------------------------------------------------------- Graph paths


@pytest.mark.parametrize(
    "path", ["123/../../me/accounts", "../me", "123//leads", "./123"]
)
def test_the_client_refuses_dot_and_empty_segments(sim, page_client, path):
    with pytest.raises(InvalidRequestError):
        page_client.get(path)
    assert sim.requests == []


def test_the_client_encodes_each_segment(sim, page_client):
    with pytest.raises(NotFoundError):
        page_client.get("123?fields=access_token")
    (request,) = sim.requests
    assert request.path.endswith("/123%3Ffields%3Daccess_token")
    assert "fields" not in request.query


@pytest.mark.parametrize(
    "call",
    [
        lambda c: api.get_lead(c, "../../me/accounts"),
        lambda c: api.get_lead_form(c, "me"),
        lambda c: api.form_leads_page(c, "1/../2"),
        lambda c: api.create_test_lead(c, "1?x=y"),
        lambda c: api.subscribe_page(c, "../app", ("leadgen",)),
    ],
)
def test_operations_validate_ids_before_calling(sim, page_client, call):
    with pytest.raises(InvalidIdError):
        call(page_client)
    assert sim.requests == []


def test_an_object_that_does_not_exist_is_not_found(sim, page_client):
    with pytest.raises(NotFoundError) as caught:
        api.get_lead(page_client, "900000000000999")
    assert not caught.value.retryable
    assert len(sim.requests) == 1  # not retried


# -------------------------------------------------------------- logging


def test_no_token_reaches_any_log_line_even_at_debug(sim, page):
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        app = GraphClient.for_app(
            sim.app_id, sim.app_secret, base_url=sim.base_url, timeout=(2, 2)
        )
        api.inspect_token(app, page["access_token"])
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = "\n".join(records)
    assert "input_token=***" in text  # urllib3 did log the request line
    assert page["access_token"] not in text
    assert sim.app_secret not in text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            '"GET /meta/webhook?hub.mode=subscribe&hub.verify_token=s3cr3t'
            '&hub.challenge=12 HTTP/1.1" 200 -',
            "s3cr3t",
        ),
        ("GET /v26.0/debug_token?input_token=EAAB123&x=1", "EAAB123"),
        ("https://h/v26.0/me?appsecret_proof=abcdef", "abcdef"),
    ],
)
def test_scrub_text(line, secret):
    scrubbed = scrub_text(line)
    assert secret not in scrubbed
    assert "=***" in scrubbed
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "%s", (line,), None
    )
    RedactingFilter().filter(record)
    assert secret not in record.getMessage()


def test_scrub_text_leaves_other_parameters():
    assert scrub_text("error_code=5&hub.mode=subscribe") == (
        "error_code=5&hub.mode=subscribe"
    )
