"""Webhook payload builders, encoding and signatures (docs/meta-facts.md §4.3, §4.5)."""

import hashlib
import hmac
import json

from meta_simulator import WebhookSender, payloads

VECTOR = "sha256=5da47c9c7409e70d7a1851f0cfd9bc27786bd99587a9bf1dd5b51e23a2de03cf"
LEAD = {
    "id": "900000000000001",
    "form_id": "3333",
    "page_id": "1111",
    "ad_id": "4444",
    "created_time": "2026-09-21T14:13:20+0000",
    "is_organic": False,
}


def test_signature_test_vector():
    sender = WebhookSender("test_app_secret")
    body = sender.encode({"object": "page", "entry": []})
    assert body == b'{"object":"page","entry":[]}'
    assert sender.sign(body) == VECTOR
    assert sender.sign(body, "other") != VECTOR


def test_turkish_text_is_escaped_lowercase_and_signed_as_sent():
    sender = WebhookSender("test_app_secret")
    payload = payloads.messenger_message(
        "1111", "PSID_1", "m_1", "Ürün stokta mı? İyi günler ❤"
    )
    body = sender.encode(payload)
    assert body.isascii()
    assert b"\\u00dcr\\u00fcn" in body and b"\\u0131" in body and b"\\u2764" in body
    assert b"\\u00DC" not in body
    assert json.loads(body) == payload
    expected = hmac.new(b"test_app_secret", body, hashlib.sha256).hexdigest()
    assert sender.sign(body) == f"sha256={expected}"
    # Re-serialising with raw UTF-8 would change the signature.
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert sender.sign(raw) != sender.sign(body)


def test_leadgen_change_shape():
    body = payloads.leadgen_change(LEAD)
    assert body["object"] == "page"
    entry = body["entry"][0]
    assert entry["id"] == "1111" and entry["time"] == 1790000000
    change = entry["changes"][0]
    assert change["field"] == "leadgen"
    assert change["value"] == {
        "ad_id": "4444",
        "form_id": "3333",
        "leadgen_id": "900000000000001",
        "created_time": 1790000000,
        "page_id": "1111",
        "adgroup_id": "4444",
    }


def test_leadgen_change_organic_and_numeric():
    organic = payloads.leadgen_change({**LEAD, "is_organic": True, "ad_id": None})
    value = organic["entry"][0]["changes"][0]["value"]
    assert "ad_id" not in value and "adgroup_id" not in value
    numeric = payloads.leadgen_change(LEAD, numeric_ids=True)
    entry = numeric["entry"][0]
    assert entry["id"] == 1111
    assert entry["changes"][0]["value"]["leadgen_id"] == 900000000000001
    assert entry["changes"][0]["value"]["adgroup_id"] == 4444


def test_feed_comment_verbs():
    added = payloads.feed_comment(
        "1111", "add", "5555_6666", "1111_5555", None, "7777", "Ayşe Yılmaz",
        "Fiyat nedir?", 1790000100,
    )  # fmt: skip
    entry = added["entry"][0]
    assert entry["time"] == 1790000100
    value = entry["changes"][0]["value"]
    assert entry["changes"][0]["field"] == "feed"
    assert value["item"] == "comment" and value["verb"] == "add"
    assert value["parent_id"] == "1111_5555"
    assert value["from"] == {"id": "7777", "name": "Ayşe Yılmaz"}
    assert value["message"] == "Fiyat nedir?" and value["post"]["id"] == "1111_5555"
    reply = payloads.feed_comment("1111", "add", "5555_7", "1111_5555", "5555_6666")
    assert reply["entry"][0]["changes"][0]["value"]["parent_id"] == "5555_6666"
    removed = payloads.feed_comment("1111", "remove", "5555_6666", "1111_5555")
    removed_value = removed["entry"][0]["changes"][0]["value"]
    assert removed_value["verb"] == "remove"
    assert "message" not in removed_value and "post" not in removed_value
    hidden = payloads.feed_comment("1111", "hide", "5555_6666", "1111_5555")
    assert hidden["entry"][0]["changes"][0]["value"]["verb"] == "hide"


def test_messenger_message_uses_milliseconds():
    attachments = [{"type": "image", "payload": {"url": "https://cdn.example/x.jpg"}}]
    body = payloads.messenger_message(
        "1111", "PSID_1", "m_AAA", "Merhaba", attachments, 1790000200123
    )
    entry = body["entry"][0]
    assert entry["time"] == 1790000200123 and "changes" not in entry
    event = entry["messaging"][0]
    assert event["sender"] == {"id": "PSID_1"} and event["recipient"] == {"id": "1111"}
    assert event["timestamp"] == 1790000200123
    assert event["message"] == {
        "mid": "m_AAA",
        "text": "Merhaba",
        "attachments": attachments,
    }


def test_messenger_echo_swaps_sender_and_recipient():
    event = payloads.messenger_echo(
        "1111", "PSID_1", "m_BBB", "Yardımcı olalım", 123456, "odoo:mail.message:42",
        1790000300000,
    )["entry"][0]["messaging"][0]  # fmt: skip
    assert event["sender"] == {"id": "1111"} and event["recipient"] == {"id": "PSID_1"}
    assert event["message"]["is_echo"] is True
    assert event["message"]["app_id"] == 123456
    assert event["message"]["metadata"] == "odoo:mail.message:42"


def test_other_messaging_variants():
    read = payloads.messenger_read("1111", "P", 1790000350000, 1790000400000)
    assert read["entry"][0]["messaging"][0]["read"] == {"watermark": 1790000350000}
    delivered = payloads.messenger_delivery("1111", "P", ["m_B"], 17900, 17901)
    assert delivered["entry"][0]["messaging"][0]["delivery"] == {
        "mids": ["m_B"],
        "watermark": 17900,
    }
    postback = payloads.messenger_postback("1111", "P", "Başla", "GET_STARTED", "m_C")
    assert postback["entry"][0]["messaging"][0]["postback"] == {
        "mid": "m_C",
        "title": "Başla",
        "payload": "GET_STARTED",
    }
    reaction = payloads.messenger_reaction("1111", "P", "m_B")
    assert reaction["entry"][0]["messaging"][0]["reaction"] == {
        "mid": "m_B",
        "action": "react",
        "reaction": "love",
        "emoji": "❤",
    }
    unreact = payloads.messenger_reaction("1111", "P", "m_B", action="unreact")
    assert unreact["entry"][0]["messaging"][0]["reaction"] == {
        "mid": "m_B",
        "action": "unreact",
    }


def test_standby_moves_events_out_of_messaging():
    original = payloads.messenger_message("1111", "P", "m_1", "selam", None, 5)
    converted = payloads.standby(original)
    entry = converted["entry"][0]
    assert "messaging" not in entry
    assert entry["standby"] == original["entry"][0]["messaging"]
    assert "messaging" in original["entry"][0]  # the input is untouched


def test_instagram_comment_id_or_comment_id_key():
    with_id = payloads.instagram_comment(
        "17841400000000001", "178900", "Ürün stokta mı?", "IGSID_1", "ayse.y", "179000",
        time=1790000700,
    )  # fmt: skip
    assert with_id["object"] == "instagram"
    entry = with_id["entry"][0]
    assert entry["time"] == 1790000700
    value = entry["changes"][0]["value"]
    assert entry["changes"][0]["field"] == "comments"
    assert value["id"] == "178900" and "comment_id" not in value
    assert value["from"] == {"id": "IGSID_1", "username": "ayse.y"}
    assert value["media"] == {"id": "179000", "media_product_type": "FEED"}
    alt = payloads.instagram_comment(
        "1784", "178900", "x", "I", "u", "179000", use_comment_id_key=True, ad_id="42"
    )
    alt_value = alt["entry"][0]["changes"][0]["value"]
    assert alt_value["comment_id"] == "178900" and "id" not in alt_value
    assert alt_value["media"]["ad_id"] == "42"
    assert alt_value["media"]["original_media_id"] == "179000"


def test_instagram_mentions():
    caption = payloads.instagram_mention("1784", "1790")
    assert caption["entry"][0]["changes"][0] == {
        "field": "mentions",
        "value": {"media_id": "1790"},
    }
    comment = payloads.instagram_mention("1784", "1790", "1789")
    assert comment["entry"][0]["changes"][0]["value"] == {
        "comment_id": "1789",
        "media_id": "1790",
    }


def test_instagram_messages_deleted_and_story_reply():
    message = payloads.instagram_message("1784", "IGSID_1", "m_1", "Merhaba")
    event = message["entry"][0]["messaging"][0]
    assert message["object"] == "instagram"
    assert event["sender"] == {"id": "IGSID_1"} and event["recipient"] == {"id": "1784"}
    deleted = payloads.instagram_message("1784", "IGSID_1", "m_1", is_deleted=True)
    assert deleted["entry"][0]["messaging"][0]["message"] == {
        "mid": "m_1",
        "is_deleted": True,
    }
    story = payloads.instagram_message("1784", "IGSID_1", "m_2", "😍", story_reply=True)
    reply_to = story["entry"][0]["messaging"][0]["message"]["reply_to"]
    assert set(reply_to["story"]) == {"url", "id"}
    read = payloads.instagram_read("1784", "IGSID_1", "m_2")
    assert read["entry"][0]["messaging"][0]["read"] == {"mid": "m_2"}


def test_delivery_merges_entries_of_several_pages():
    body = payloads.delivery(
        "page",
        [payloads.leadgen_change(LEAD), payloads.feed_comment("2222", "add")],
    )
    assert body["object"] == "page"
    assert [entry["id"] for entry in body["entry"]] == ["1111", "2222"]
