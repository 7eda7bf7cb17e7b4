"""Webhook handshake, signature and parsing (docs/meta-facts.md §4).

Deliveries are built with the simulator's payload builders, which follow
Meta's documented shapes independently of the parser under test.
"""

import json
import random
from datetime import datetime, timezone

import pytest

from graph.errors import MalformedPayloadError, SignatureError
from graph.social import change_from_event
from graph.webhook import (
    FIELD_KINDS,
    KINDS,
    DeliveryEvent,
    InstagramCommentEvent,
    InstagramMentionEvent,
    LeadgenEvent,
    MalformedEvent,
    MessageEchoEvent,
    MessageEvent,
    PageCommentEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    UnhandledEvent,
    event_from_record,
    fields_for_kinds,
    parse_delivery,
    sign,
    verify_handshake,
    verify_signature,
)
from meta_simulator import payloads

SECRET = "test_app_secret"
PAGE = "1111"
IG = "17841400000000001"


def entry_with(obj, account_id, item, key="changes"):
    """A delivery holding one raw item, for shapes no builder makes."""
    return {
        "object": obj,
        "entry": [{"id": account_id, "time": 1790000000, key: [item]}],
    }


def encode(payload):
    # What Meta sends: ASCII-only JSON, non-ASCII escaped as \uXXXX (§4.3).
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


# -------------------------------------------------------------- signature


def test_signature_test_vector():
    body = b'{"object":"page","entry":[]}'
    expected = "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"
    assert sign(body, SECRET) == expected
    verify_signature(body, expected, [SECRET])


@pytest.fixture
def turkish_body():
    return encode(
        payloads.delivery(
            "page",
            [payloads.feed_comment(PAGE, message="Fiyatı nedir? Çok güzel ışık, İğne")],
        )
    )


def test_valid_signature_with_turkish_text(turkish_body):
    assert b"\\u0131" in turkish_body  # ı escaped as Meta does
    verify_signature(turkish_body, sign(turkish_body, SECRET), [SECRET])


def test_previous_secret_is_accepted_during_rotation(turkish_body):
    header = sign(turkish_body, "old_secret")
    verify_signature(turkish_body, header, [SECRET, "old_secret"])
    with pytest.raises(SignatureError):
        verify_signature(turkish_body, header, [SECRET, ""])


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda body: sign(body, "wrong_secret"), id="wrong-secret"),
        pytest.param(lambda body: sign(body, SECRET)[:-2], id="truncated-hex"),
        pytest.param(lambda body: sign(body, SECRET).upper(), id="upper-case-all"),
        pytest.param(
            lambda body: "sha256=" + sign(body, SECRET)[7:].upper(), id="upper-case-hex"
        ),
        pytest.param(lambda body: None, id="missing-header"),
        pytest.param(lambda body: "", id="empty-header"),
        pytest.param(lambda body: sign(body, SECRET)[7:], id="no-prefix"),
        pytest.param(lambda body: "sha1=" + "0" * 40, id="sha1-only"),
        pytest.param(lambda body: "sha256=ğğğ", id="non-ascii"),
    ],
)
def test_forged_signatures_are_refused(turkish_body, forge):
    with pytest.raises(SignatureError):
        verify_signature(turkish_body, forge(turkish_body), [SECRET])


def test_one_changed_body_byte_is_refused(turkish_body):
    header = sign(turkish_body, SECRET)
    for index in (0, len(turkish_body) // 2, len(turkish_body) - 1):
        tampered = bytearray(turkish_body)
        tampered[index] ^= 0x01
        with pytest.raises(SignatureError):
            verify_signature(bytes(tampered), header, [SECRET])


def test_reserialized_json_breaks_the_signature(turkish_body):
    header = sign(turkish_body, SECRET)
    reserialized = json.dumps(json.loads(turkish_body), ensure_ascii=False).encode()
    with pytest.raises(SignatureError):
        verify_signature(reserialized, header, [SECRET])


def test_signature_needs_bytes_and_a_secret(turkish_body):
    with pytest.raises(SignatureError):
        verify_signature(turkish_body.decode(), sign(turkish_body, SECRET), [SECRET])
    with pytest.raises(SignatureError, match="no app secret"):
        verify_signature(turkish_body, sign(turkish_body, SECRET), ["", None])


# -------------------------------------------------------------- handshake


def _hub(mode="subscribe", token="verify-me", challenge="1158201444"):
    return {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}


def test_handshake_echoes_the_challenge():
    assert verify_handshake(_hub(), "verify-me") == "1158201444"


@pytest.mark.parametrize(
    ("params", "configured"),
    [
        (_hub(token="nope"), "verify-me"),
        (_hub(mode="unsubscribe"), "verify-me"),
        (_hub(challenge="<script>alert(1)</script>"), "verify-me"),
        (_hub(challenge=""), "verify-me"),
        (_hub(challenge="٣٣٣"), "verify-me"),  # non-ASCII digits
        (_hub(), ""),
        ({}, "verify-me"),
    ],
)
def test_handshake_refusals(params, configured):
    assert verify_handshake(params, configured) is None


# ---------------------------------------------------------------- parsing


def test_leadgen_with_numeric_ids():
    change = payloads.leadgen_change(
        {
            "id": 900000000000001,
            "form_id": 3333,
            "ad_id": 4444,
            "created_time": 1790000000,
        },
        page_id=1111,
        numeric_ids=True,
    )
    body = encode(payloads.delivery("page", [change]))
    (event,) = parse_delivery(body)
    assert isinstance(event, LeadgenEvent)
    assert event.leadgen_id == "900000000000001"
    assert event.page_id == "1111"
    assert event.account_id == "1111"
    assert event.form_id == "3333"
    assert event.ad_id == "4444"
    assert event.created_time == datetime(2026, 9, 21, 14, 13, 20, tzinfo=timezone.utc)
    assert event.key == "leadgen:page:1111:900000000000001"
    assert event.kind == "leadgen"


def test_organic_lead_has_no_ad():
    change = payloads.leadgen_change(
        {"id": "900000000000002", "form_id": "3333", "created_time": 1790000000},
        page_id=PAGE,
    )
    (event,) = parse_delivery(payloads.delivery("page", [change]))
    assert event.ad_id == "" and event.adgroup_id == ""


@pytest.mark.parametrize("verb", ["add", "edited", "remove", "hide"])
def test_page_comment_verbs(verb):
    change = payloads.feed_comment(
        PAGE,
        verb=verb,
        comment_id="5555_6666",
        post_id="1111_5555",
        parent_id="1111_5555",
        from_id="7777",
        from_name="Ayşe Yılmaz",
        message="Fiyat nedir?",
        created_time=1790000100,
    )
    (event,) = parse_delivery(encode(payloads.delivery("page", [change])))
    assert isinstance(event, PageCommentEvent)
    assert event.verb == verb
    assert event.comment_id == "5555_6666"
    assert event.from_name == "Ayşe Yılmaz"
    assert not event.is_reply
    assert not change_from_event(event).from_account
    assert verb in event.key


def test_comment_reply_and_page_own_comment():
    change = payloads.feed_comment(
        PAGE,
        comment_id="5555_7777",
        post_id="1111_5555",
        parent_id="5555_6666",
        from_id=PAGE,
        from_name="Page",
        message="Teşekkürler",
    )
    (event,) = parse_delivery(payloads.delivery("page", [change]))
    assert event.is_reply
    assert change_from_event(event).from_account


def test_two_edits_of_a_comment_are_two_events():
    first = payloads.feed_comment(
        PAGE, verb="edited", comment_id="1", message="a", created_time=1790000100
    )
    second = payloads.feed_comment(
        PAGE, verb="edited", comment_id="1", message="b", created_time=1790000100
    )
    keys = {e.key for e in parse_delivery(payloads.delivery("page", [first, second]))}
    assert len(keys) == 2


def test_feed_items_other_than_comments_are_unhandled():
    change = {"field": "feed", "value": {"item": "reaction", "verb": "add"}}
    (event,) = parse_delivery(entry_with("page", PAGE, change))
    assert isinstance(event, UnhandledEvent)
    assert "reaction" in event.reason


def test_messenger_kinds():
    items = [
        payloads.messenger_message(
            PAGE, "PSID_1", "m_AAA", "Merhaba", timestamp_ms=1790000200000
        ),
        payloads.messenger_echo(PAGE, "PSID_1", "m_BBB", "Yardımcı olalım", app_id=123),
        payloads.messenger_read(PAGE, "PSID_1", watermark=1790000350000),
        payloads.messenger_delivery(
            PAGE, "PSID_1", mids=["m_BBB"], watermark=1790000350000
        ),
        payloads.messenger_postback(PAGE, "PSID_1", "Başla", "GET_STARTED"),
        payloads.messenger_reaction(PAGE, "PSID_1", "m_BBB", reaction="love"),
    ]
    events = parse_delivery(encode(payloads.delivery("page", items)))
    kinds = [e.kind for e in events]
    assert kinds == [
        "messenger_message",
        "messenger_echo",
        "messenger_read",
        "messenger_delivery",
        "messenger_postback",
        "messenger_reaction",
    ]
    message, echo, read, delivery, postback, reaction = events
    assert isinstance(message, MessageEvent) and message.text == "Merhaba"
    assert message.timestamp == datetime(2026, 9, 21, 14, 16, 40, tzinfo=timezone.utc)
    assert message.customer_id == "PSID_1"
    assert isinstance(echo, MessageEchoEvent)
    assert echo.customer_id == "PSID_1"  # sender/recipient swapped on echoes
    assert isinstance(read, ReadEvent) and read.watermark is not None
    assert isinstance(delivery, DeliveryEvent) and delivery.mids == ("m_BBB",)
    assert isinstance(postback, PostbackEvent) and postback.payload == "GET_STARTED"
    assert isinstance(reaction, ReactionEvent) and reaction.reaction == "love"
    assert len({e.key for e in events}) == len(events)


@pytest.mark.parametrize(
    "obj,channel", [("page", "messenger"), ("instagram", "instagram")]
)
def test_a_referral_keeps_the_ad_that_brought_the_person_back(obj, channel):
    item = {
        "sender": {"id": "PSID_1"},
        "recipient": {"id": PAGE},
        "timestamp": 1790000200000,
        "referral": {"source": "ADS", "type": "OPEN_THREAD", "ad_id": "6100"},
    }

    def entry(messaging):
        return {"id": PAGE, "time": 1790000200123, "messaging": [messaging]}

    (event,) = parse_delivery(encode(payloads.delivery(obj, [entry(item)])))
    assert event.kind == f"{channel}_referral"
    assert event.ad_id == "6100" and event.source == "ADS"
    assert event.customer_id == "PSID_1"
    again = {**item, "timestamp": 1790000300000}
    (later,) = parse_delivery(encode(payloads.delivery(obj, [entry(again)])))
    assert later.key != event.key  # two visits through the ad are two events
    assert "messaging_referral" in fields_for_kinds(obj, [event.kind])[0]


def test_standby_events_are_flagged():
    delivery = payloads.standby(payloads.messenger_message(PAGE, "PSID_2", "m_S", "hi"))
    (event,) = parse_delivery(delivery)
    assert isinstance(event, MessageEvent)
    assert event.standby


@pytest.mark.parametrize("use_comment_id_key", [False, True])
def test_instagram_comment_id_under_either_key(use_comment_id_key):
    change = payloads.instagram_comment(
        IG,
        comment_id="17890000000000001",
        text="Ürün stokta mı?",
        from_id="IGSID_1",
        username="ayse.y",
        media_id="17900000000000001",
        use_comment_id_key=use_comment_id_key,
    )
    (event,) = parse_delivery(encode(payloads.delivery("instagram", [change])))
    assert isinstance(event, InstagramCommentEvent)
    assert event.comment_id == "17890000000000001"
    assert event.text == "Ürün stokta mı?"
    assert event.from_username == "ayse.y"
    assert event.key == f"instagram_comment:instagram:{IG}:17890000000000001"


def test_instagram_mentions():
    changes = [
        payloads.instagram_mention(IG, media_id="1790"),
        payloads.instagram_mention(IG, media_id="1790", comment_id="1789"),
    ]
    events = parse_delivery(payloads.delivery("instagram", changes))
    assert all(isinstance(e, InstagramMentionEvent) for e in events)
    assert events[1].comment_id == "1789"
    assert events[0].key != events[1].key


def test_instagram_messages_and_deletion():
    items = [
        payloads.instagram_message(IG, "IGSID_1", "m_IG1", "Selam"),
        payloads.instagram_message(IG, "IGSID_1", "m_IG1", "", is_deleted=True),
        payloads.instagram_message(IG, "IGSID_1", "m_IG2", "story", story_reply=True),
    ]
    message, deleted, story = parse_delivery(
        encode(payloads.delivery("instagram", items))
    )
    assert message.kind == "instagram_message"
    assert deleted.is_deleted and deleted.mid == message.mid
    assert deleted.key != message.key
    assert story.reply_to


def test_unknown_fields_and_objects_are_unhandled():
    delivery = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "time": 1, "changes": [{"field": "messages", "value": {}}]}
        ],
    }
    (event,) = parse_delivery(delivery)
    assert isinstance(event, UnhandledEvent)
    (event,) = parse_delivery({"object": "page", "entry": [{"id": "1", "time": 1}]})
    assert isinstance(event, UnhandledEvent)


@pytest.mark.parametrize(
    "item",
    [
        {"field": "leadgen", "value": {"page_id": "1"}},
        {"field": "leadgen", "value": "nope"},
        {"field": "feed", "value": {"item": "comment", "verb": "add"}},
        "not-an-object",
    ],
)
def test_bad_items_become_malformed_events_not_errors(item):
    good = payloads.leadgen_change(
        {"id": "900000000000003", "form_id": "1"}, page_id=PAGE
    )
    good_item = good["entry"][0]["changes"][0]
    events = parse_delivery(
        {"object": "page", "entry": [{"id": PAGE, "changes": [item, good_item]}]}
    )
    assert isinstance(events[0], MalformedEvent)
    assert events[0].reason
    assert isinstance(events[1], LeadgenEvent)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"\xff\xfe",
        b"[]",
        b'"page"',
        b'{"entry": []}',
        b'{"object": "page"}',
        b'{"object": "page", "entry": {}}',
        b'{"object": "page", "entry": [1]}',
        b'{"object": "page", "entry": [{"id": "1", "changes": {}}]}',
        b"[" * 10000 + b"]" * 10000,
        b'{"object":"page","entry":[' + b"[" * 5000 + b"]" * 5000 + b"]}",
    ],
)
def test_malformed_envelopes_raise_a_clear_error(body):
    with pytest.raises(MalformedPayloadError):
        parse_delivery(body)


def test_an_entry_nested_too_deeply_is_refused_alone():
    """Nested 5,000 levels deep: no RecursionError, and only that entry is
    refused, not the delivery."""
    good = encode(entry_with("page", PAGE, {"field": "ratings", "value": {}}))
    body = good.replace(
        b'"entry":[', b'"entry":[' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b","
    )
    bad, kept = parse_delivery(body)
    assert isinstance(bad, MalformedEvent) and "nested too deeply" in bad.reason
    assert isinstance(kept, UnhandledEvent)


def test_same_event_in_other_batches_has_the_same_key():
    lead = payloads.leadgen_change(
        {"id": "900000000000009", "form_id": "1"}, page_id=PAGE
    )
    other = payloads.leadgen_change(
        {"id": "900000000000010", "form_id": "1"}, page_id=PAGE
    )
    alone = parse_delivery(payloads.delivery("page", [lead]))[0]
    together = parse_delivery(payloads.delivery("page", [other, lead]))[1]
    assert alone.key == together.key


def test_events_round_trip_through_their_stored_form():
    items = [
        (
            "page",
            payloads.leadgen_change(
                {"id": "900000000000011", "form_id": "1"}, page_id=PAGE
            ),
        ),
        ("page", payloads.feed_comment(PAGE, comment_id="1_2", message="ğüşiöç")),
        ("page", payloads.messenger_message(PAGE, "PSID", "m_1", "Merhaba")),
        (
            "instagram",
            payloads.instagram_comment(IG, "99", "x", "IGSID_9", "kullanici", "1790"),
        ),
        ("instagram", payloads.instagram_mention(IG, media_id="5")),
        ("page", entry_with("page", PAGE, {"field": "ratings", "value": {}})),
    ]
    for obj, item in items:
        (event,) = parse_delivery(encode(payloads.delivery(obj, [item])))
        record = json.loads(json.dumps(event.to_record()))
        rebuilt = event_from_record(record)
        assert rebuilt == event
        assert rebuilt.key == event.key
    with pytest.raises(MalformedPayloadError):
        event_from_record(None)


def test_one_vocabulary_of_kinds():
    carried = {kind for kinds in FIELD_KINDS.values() for kind in kinds}
    assert carried <= set(KINDS)
    assert set(KINDS) - carried == {"unhandled", "malformed", "instagram_delivery"}
    assert fields_for_kinds("page", {"leadgen"}) == ("leadgen",)
    assert fields_for_kinds("page", {"messenger_message", "messenger_echo"}) == (
        "messages",
        "message_echoes",
    )
    assert fields_for_kinds("instagram", {"leadgen"}) == ()


def test_redacted_record_keeps_no_personal_data():
    item = payloads.messenger_message(PAGE, "24000000000001", "m_1", "Telefonum 0532")
    (event,) = parse_delivery(encode(item))
    record = event.redacted_record()
    assert "0532" not in json.dumps(record)
    assert record["item"] == {"keys": ["message", "recipient", "sender", "timestamp"]}
    rebuilt = event_from_record(json.loads(json.dumps(record)))
    assert isinstance(rebuilt, UnhandledEvent)
    assert rebuilt.kind == "unhandled"


def _random_json(rng, depth=0):
    choice = rng.randrange(8 if depth < 4 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([0, -1, 10**20, 1.5, True])
    if choice == 2:
        return rng.choice(["", "x" * 1000, "ğ", "1111", "leadgen", "feed", "comment"])
    if choice == 3:
        return rng.choice(["page", "instagram", "entry", "changes", "messaging"])
    if choice == 4:
        return {}
    if choice == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [
        "object",
        "entry",
        "changes",
        "messaging",
        "field",
        "value",
        "id",
        "time",
        "sender",
        "message",
        "mid",
        "leadgen_id",
        "item",
        "verb",
        "comment_id",
    ]
    return {
        rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))
    }


def test_hostile_structures_never_crash_the_parser():
    rng = random.Random(20261124)
    for _ in range(3000):
        candidate = _random_json(rng)
        if rng.random() < 0.5:
            candidate = {"object": "page", "entry": [candidate]}
        try:
            events = parse_delivery(encode(candidate))
        except MalformedPayloadError:
            continue
        for event in events:
            assert event.key
            event_from_record(json.loads(json.dumps(event.to_record())))
