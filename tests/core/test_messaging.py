"""Messenger and Instagram Direct: the window, the Send API body, inbound
parts (docs/meta-facts.md §6). Deliveries come from the simulator's payload
builders, which follow Meta's documented shapes."""

from datetime import datetime, timedelta, timezone

import pytest

from graph import messaging
from graph.client import GraphClient
from graph.errors import GraphError
from graph.webhook import parse_delivery
from meta_simulator import payloads

from ..conftest import APP_SECRET

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("after", "human", "granted", "expected"),
    [
        (timedelta(0), True, False, ("RESPONSE", None, None)),
        (timedelta(hours=24) - SECOND, False, False, ("RESPONSE", None, None)),
        # exactly 24 h: the standard window is closed
        (timedelta(hours=24), True, True, ("MESSAGE_TAG", "HUMAN_AGENT", None)),
        (timedelta(hours=24), True, False, (None, None, "human_agent_not_granted")),
        (timedelta(hours=30), False, True, (None, None, "bot_outside_window")),
        (timedelta(days=7) - SECOND, True, True, ("MESSAGE_TAG", "HUMAN_AGENT", None)),
        (timedelta(days=7), True, True, (None, None, "window_closed")),
    ],
)
def test_the_window_at_its_boundaries(after, human, granted, expected):
    rule = messaging.send_rule(T0 + after, T0, human=human, human_agent_allowed=granted)
    assert (rule.messaging_type, rule.tag, rule.refusal) == expected
    assert rule.allowed == (expected[2] is None)


def test_a_click_to_message_ad_opens_seven_days():
    rule = messaging.send_rule(T0 + timedelta(days=6), T0, ad_opened_at=T0, human=False)
    assert (rule.messaging_type, rule.tag) == ("RESPONSE", None)
    assert rule.closes_at == T0 + timedelta(days=7)
    closed = messaging.send_rule(T0 + timedelta(days=7), T0, ad_opened_at=T0)
    assert closed.refusal == "window_closed"
    assert messaging.send_rule(T0, None).refusal == "no_inbound"


def test_the_send_body_never_carries_a_removed_tag():
    inside = messaging.send_rule(T0 + timedelta(hours=1), T0)
    body = messaging.message_body("PSID_1", inside, text="Merhaba", metadata="odoo:42")
    assert body == {
        "recipient": {"id": "PSID_1"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Merhaba", "metadata": "odoo:42"},
    }
    late = messaging.send_rule(T0 + timedelta(days=2), T0, human_agent_allowed=True)
    tagged = messaging.message_body(
        "PSID_1", late, attachment=("image", "https://x.example/a.png")
    )
    assert tagged["tag"] == "HUMAN_AGENT" and tagged["messaging_type"] == "MESSAGE_TAG"
    assert (
        tagged["message"]["attachment"]["payload"]["url"] == "https://x.example/a.png"
    )
    closed = messaging.send_rule(T0 + timedelta(days=8), T0)
    with pytest.raises(ValueError, match="window_closed"):
        messaging.message_body("PSID_1", closed, text="Geç")


def test_texts_and_attachments_within_meta_limits():
    assert messaging.check_text("messenger", " Selam ") == "Selam"
    messaging.check_text("messenger", "ş" * 2000)
    with pytest.raises(ValueError, match="too_long"):
        messaging.check_text("messenger", "a" * 2001)
    with pytest.raises(ValueError, match="too_long"):
        messaging.check_text("instagram", "ş" * 501)  # 1002 bytes
    with pytest.raises(ValueError, match="empty"):
        messaging.check_text("instagram", "  ")
    mb = messaging.MB
    assert messaging.check_attachment("messenger", "application/pdf", 10 * mb) == "file"
    with pytest.raises(ValueError, match="too_large"):
        messaging.check_attachment("messenger", "image/png", 9 * mb)
    with pytest.raises(ValueError, match="type_refused"):
        messaging.check_attachment("instagram", "application/pdf", 1)
    with pytest.raises(ValueError, match="type_refused"):
        messaging.check_attachment("instagram", "image/gif", 1)
    assert messaging.check_attachment("instagram", "video/mp4", 20 * mb) == "video"


def test_inbound_parts_stickers_stories_and_shares():
    delivery = payloads.messenger_message(
        "1111",
        "PSID_1",
        "m_1",
        attachments=[
            {"type": "sticker", "payload": {"sticker_id": 369239263222822}},
            {
                "type": "image",
                "payload": {"url": "https://cdn.example/x.jpg", "sticker_id": 1},
            },
            {"type": "file", "payload": {"url": "javascript:alert(1)"}},
            {"type": "share", "payload": {"url": "https://www.instagram.com/p/x/"}},
            {"type": "something_new", "payload": {}},
        ],
    )
    [event] = parse_delivery(delivery)
    parts = messaging.parts_of(event)
    assert [p.kind for p in parts] == ["sticker", "sticker", "file", "share", "unknown"]
    assert parts[0].sticker_id == "369239263222822"
    assert parts[2].url == "", "only web links are kept"


def test_a_referral_keeps_the_ad():
    item = {
        "sender": {"id": "PSID_1"},
        "message": {
            "mid": "m_2",
            "text": "Merhaba",
            "referral": {
                "source": "ADS",
                "type": "OPEN_THREAD",
                "ad_id": "120000000001",
            },
        },
    }
    assert messaging.referral_ad_id(item) == "120000000001"
    assert messaging.referral_ad_id({"message": {"mid": "m"}}) == ""


def test_a_story_reply_and_a_story_mention():
    delivery = payloads.messenger_message(
        "17841400000000001",
        "IGSID_1",
        "m_3",
        "Bu ne güzel!",
        attachments=[
            {"type": "story_mention", "payload": {"url": "https://cdn.example/s.mp4"}}
        ],
        object="instagram",
        reply_to={"story": {"url": "https://cdn.example/story.jpg", "id": "1790"}},
    )
    [event] = parse_delivery(delivery)
    parts = messaging.parts_of(event)
    assert [(p.kind, p.url) for p in parts] == [
        ("story_reply", "https://cdn.example/story.jpg"),
        ("story_mention", "https://cdn.example/s.mp4"),
    ]


def test_a_message_reaches_the_simulator_under_the_window(sim):
    page = sim.add_page("Anadolu Mobilya")
    user = sim.add_user_token(pages=[page["id"]])
    client = GraphClient(
        sim.page_token(user, page["id"]),
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        max_retries=0,
    )
    sim.receive_dm(page["id"], "PSID_9", "Merhaba", deliver=False)
    now = datetime.fromtimestamp(sim.clock.now(), timezone.utc)
    rule = messaging.send_rule(now, now)
    body = messaging.message_body(
        "PSID_9", rule, text="Hoş geldiniz", metadata="odoo:1"
    )
    sent = messaging.send_message(client, page["id"], body)
    assert sent["recipient_id"] == "PSID_9"
    [ours] = [
        m
        for m in sim.conversation(page["id"], "PSID_9")["messages"]
        if m.get("metadata")
    ]
    assert (ours["text"], ours["metadata"]) == ("Hoş geldiniz", "odoo:1")
    with pytest.raises(GraphError) as refused:
        messaging.send_message(
            client, page["id"], {**body, "recipient": {"id": "PSID_0"}}
        )
    assert refused.value.code == 100


class _Answers:
    """A client answering canned Graph pages (the subject is the parsing)."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), []

    def get(self, path, params):
        self.calls.append((path, params))
        return self.answers.pop(0)


def test_conversations_are_read_a_page_at_a_time():
    page = {
        "data": [
            {
                "id": "t_1",
                "updated_time": "2026-12-01T09:00:00+0000",
                "participants": {
                    "data": [
                        {"id": "1111", "name": "Demo Page"},
                        {"id": "PSID_1", "name": "Ayşe <b>Yılmaz</b>"},
                    ]
                },
            }
        ],
        "paging": {"cursors": {"after": "C1"}, "next": "https://graph/next"},
    }
    client = _Answers(page)
    nodes, after = messaging.conversations_page(client, "1111", "instagram")
    assert after == "C1"
    path, params = client.calls[0]
    assert path == "1111/conversations" and params["platform"] == "instagram"
    assert messaging.conversation_customer("1111", nodes[0]) == (
        "PSID_1",
        "Ayşe <b>Yılmaz</b>",
    )
    assert messaging.conversation_customer("1111", {"participants": "x"}) == ("", "")


def test_a_history_message_its_direction_and_its_attachments():
    node = {
        "id": "m_1",
        "created_time": "2026-12-01T09:00:00+0000",
        "from": {"id": "PSID_1", "name": "Ayşe"},
        "message": "Fiyat?",
        "attachments": {
            "data": [
                {"mime_type": "image/jpeg", "image_data": {"url": "https://cdn/x.jpg"}},
                {"mime_type": "application/pdf", "name": "teklif.pdf",
                 "file_url": "https://cdn/t.pdf"},
                {"video_data": {"url": "javascript:alert(1)"}},
                "junk",
            ]
        },
    }  # fmt: skip
    message = messaging.history_message("1111", node)
    assert (message.mid, message.text, message.outbound) == ("m_1", "Fiyat?", False)
    assert message.created_at == T0
    assert [(p.kind, p.url, p.title) for p in message.parts] == [
        ("image", "https://cdn/x.jpg", ""),
        ("file", "https://cdn/t.pdf", "teklif.pdf"),
        ("video", "", ""),  # only web links are kept
    ]
    assert message.readable
    ours = messaging.history_message("1111", {"id": "m_2", "from": {"id": "1111"}})
    assert ours.outbound and ours.text == "" and ours.parts == ()
    assert not ours.readable, "beyond the latest messages Meta gives the id only"
    with pytest.raises(Exception, match="without its id"):
        messaging.history_message("1111", {"message": "x"})


@pytest.fixture
def cdn():
    """A local web server standing in for Meta's CDN: ``/small`` (a PNG),
    ``/big`` (declares a size above the limit), ``/liar`` (declares none,
    sends too much), ``/gone`` (404)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path.startswith("/small"):
                body, length = b"\x89PNG" + b"x" * 100, None
            elif self.path == "/big":
                body, length = b"x" * 10, 10**9
            elif self.path == "/liar":
                body, length = b"x" * 5000, None
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png; charset=binary")
            self.send_header("Content-Length", str(length or len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_an_attachment_is_downloaded_within_meta_limits(cdn):
    data, mimetype, name = messaging.download(
        f"{cdn}/small/photo.png?x=1", allow_http=True
    )
    assert data.startswith(b"\x89PNG") and len(data) == 104
    assert (mimetype, name) == ("image/png", "photo.png")
    with pytest.raises(ValueError, match="https"):
        messaging.download(f"{cdn}/small/photo.png")  # plain http outside the sandbox
    with pytest.raises(ValueError, match="https"):
        messaging.download("javascript:alert(1)", allow_http=True)
    with pytest.raises(ValueError, match="limit"):
        messaging.download(f"{cdn}/big", allow_http=True)
    with pytest.raises(ValueError, match="limit"):
        messaging.download(f"{cdn}/liar", max_bytes=1000, allow_http=True)
    with pytest.raises(OSError, match="HTTPError"):
        messaging.download(f"{cdn}/gone", allow_http=True)


@pytest.mark.parametrize(
    "value", ["t_10224010411239876", "aWdfZAG06MTpJR01lc3NhZA2VUaHJlYWQ6MTc4NDE0"]
)
def test_conversation_ids_of_both_platforms_are_taken(value):
    client = _Answers({"data": []})
    assert messaging.conversation_messages_page(client, value) == ([], None)
    assert client.calls[0][0] == f"{value}/messages"


@pytest.mark.parametrize(
    "value",
    ["../me/accounts", "t_1/../x", "abc?fields=x", "t_", "short", "a.b.c.d.e.f"],
)
def test_a_conversation_id_never_becomes_another_path(value):
    with pytest.raises(Exception, match="not a Meta conversation id"):
        messaging.conversation_messages_page(_Answers(), value)
