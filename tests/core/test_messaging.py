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


def _server(handler_class, host="127.0.0.1"):
    import threading
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer((host, 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def cdn():
    """A local web server standing in for Meta's CDN: ``/small`` (a PNG),
    ``/big`` (declares a size above the limit), ``/liar`` (declares none,
    sends too much), ``/gone`` (404), ``/to?<url>`` (302 to that URL),
    ``/trickle`` (a body of one byte every 0.1 s), ``/slow-head`` (its
    headers one byte every 0.1 s); ``.hits`` counts the requests."""
    import time
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import unquote

    hits = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            if self.path.startswith("/to?"):
                self.send_response(302)
                self.send_header("Location", unquote(self.path[4:]))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self._trickle(b"x" * 300)
                return
            if self.path == "/slow-head":
                self._trickle(b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 300)
                return
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

        def _trickle(self, data):
            for byte in data:  # 30 s at most, however long the client waits
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.1)

    server = _server(Handler)
    url = f"http://127.0.0.1:{server.server_port}"
    url_hits = type("Cdn", (str,), {})(url)
    url_hits.hits = hits
    yield url_hits
    server.shutdown()


def test_an_attachment_is_downloaded_within_meta_limits(cdn):
    sandbox = messaging.fetch.sandbox_addresses(cdn)
    data, mimetype, name = messaging.download(
        f"{cdn}/small/photo.png?x=1", allow_http=True, allow=sandbox
    )
    assert data.startswith(b"\x89PNG") and len(data) == 104
    assert (mimetype, name) == ("image/png", "photo.png")
    with pytest.raises(ValueError, match="https"):
        # plain http outside the sandbox
        messaging.download(f"{cdn}/small/photo.png", allow=sandbox)
    with pytest.raises(ValueError, match="https"):
        messaging.download("javascript:alert(1)", allow_http=True)
    with pytest.raises(ValueError, match="limit"):
        messaging.download(f"{cdn}/big", allow_http=True, allow=sandbox)
    with pytest.raises(ValueError, match="limit"):
        messaging.download(
            f"{cdn}/liar", max_bytes=1000, allow_http=True, allow=sandbox
        )
    with pytest.raises(OSError, match="HTTPError"):
        messaging.download(f"{cdn}/gone", allow_http=True, allow=sandbox)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",  # this machine (Odoo's own pages)
        "localhost:{port}",
        "[::ffff:127.0.0.1]:{port}",  # IPv4-mapped IPv6
        "[::1]:{port}",
        "2130706433:{port}",  # 127.0.0.1 as one number
        "0.0.0.0:{port}",
        "169.254.169.254",  # a cloud's metadata service
        "[fe80::1]",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "[fd00::1]",
        "224.0.0.1",
        "[ff02::1]",
        "240.0.0.1",
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    ],
)
def test_a_link_inside_this_machine_or_network_is_never_fetched(cdn, host):
    port = cdn.rsplit(":", 1)[1]
    url = f"http://{host.format(port=port)}/small/photo.png"
    with pytest.raises(messaging.fetch.DownloadRefused, match="public Internet"):
        messaging.download(url, allow_http=True, timeout=1)
    assert not cdn.hits, "refused before connecting"


def test_the_sandbox_allows_its_own_server_only(cdn):
    """The simulator on loopback serves its files; another port of the same
    machine (Odoo itself) stays out of reach, redirects included."""
    from http.server import BaseHTTPRequestHandler

    class Other(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"secret")

    other = _server(Other)
    try:
        sandbox = messaging.fetch.sandbox_addresses(cdn)
        elsewhere = f"http://127.0.0.1:{other.server_port}/web/database/selector"
        with pytest.raises(messaging.fetch.DownloadRefused, match="public Internet"):
            messaging.download(elsewhere, allow_http=True, allow=sandbox)
        for target in (
            elsewhere,
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:10.0.0.1]/",
        ):
            with pytest.raises(
                messaging.fetch.DownloadRefused, match="public Internet"
            ):
                messaging.download(
                    f"{cdn}/to?{target}", allow_http=True, allow=sandbox, timeout=1
                )
        # a redirect to an https-only link from plain http is refused too
        with pytest.raises(ValueError, match="https"):
            messaging.download(f"{cdn}/to?ftp://x/y", allow_http=True, allow=sandbox)
        # within the sandbox, redirects are followed, a few of them
        data, _mimetype, _name = messaging.download(
            f"{cdn}/to?/small/photo.png", allow_http=True, allow=sandbox
        )
        assert data.startswith(b"\x89PNG")
        with pytest.raises(OSError, match="redirects"):
            messaging.download(
                f"{cdn}/to?/to?/to?/to?/to?/to?/to?/small",
                allow_http=True,
                allow=sandbox,
            )
    finally:
        other.shutdown()


def test_the_checked_address_is_the_one_connected_to(cdn, monkeypatch):
    """A name that resolves to an allowed address when checked and to
    another one a moment later (DNS rebinding) is fetched from the first."""
    import socket

    port = int(cdn.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "10.255.255.1", "10.255.255.1"])

    def rebinding(host, *args, **kwargs):
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    data, _mimetype, _name = messaging.download(
        f"http://rebind.example:{port}/small/photo.png",
        allow_http=True,
        allow={("127.0.0.1", port)},
        timeout=1,
    )
    assert data.startswith(b"\x89PNG")


@pytest.mark.parametrize("path", ["/trickle", "/slow-head"])
def test_a_download_ends_at_its_deadline_however_slowly_it_comes(cdn, path):
    """One byte every 0.1 s never trips the 10 s socket timeout: the
    deadline of the whole download ends it."""
    sandbox = messaging.fetch.sandbox_addresses(cdn)
    with pytest.raises(OSError, match="longer than 1 s"):
        messaging.download(
            f"{cdn}{path}", allow_http=True, allow=sandbox, timeout=10, deadline=1
        )


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


def test_a_messenger_person_is_named_once_they_wrote(sim):
    """Messenger's User Profile API, through the same piece as Instagram's:
    first and last name make the name; someone who never wrote is an error
    about that one person."""
    from graph import social
    from graph.errors import OBJECT

    page = sim.add_page("Anadolu Mobilya")
    user = sim.add_user_token(pages=[page["id"]])
    client = GraphClient(
        sim.page_token(user, page["id"]),
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        max_retries=0,
    )
    sim.receive_dm(
        page["id"], "24000000000000008", "Merhaba", name="Ayşe Yılmaz", deliver=False
    )
    profile = social.get_profile(client, "24000000000000008", platform="facebook")
    assert profile["name"] == "Ayşe Yılmaz"
    assert profile["picture_url"].startswith("https://")
    with pytest.raises(GraphError) as unknown:
        social.get_profile(client, "24000000000000000", platform="facebook")
    assert unknown.value.scope == OBJECT


def test_https_goes_to_the_checked_address_and_verifies_the_name(tmp_path, monkeypatch):
    """The connection is made to the address that was checked, and TLS
    still checks the certificate against the link's name (SNI)."""
    import shutil
    import socket
    import ssl
    import subprocess
    from http.server import BaseHTTPRequestHandler

    if not shutil.which("openssl"):
        pytest.skip("openssl makes the test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", "/CN=cdn.example",
         "-addext", "subjectAltName=DNS:cdn.example"],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "8")
            self.end_headers()
            self.wfile.write(b"\x89PNG tls")

    server = _server(Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_port
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host in ("cdn.example", "other.example"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    def trusting():
        trusted = ssl.create_default_context()
        trusted.load_verify_locations(cert)
        return trusted

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(messaging.fetch, "_tls_context", trusting)
    allow = {("127.0.0.1", port)}
    try:
        data, mimetype, name = messaging.download(
            f"https://cdn.example:{port}/p.png", allow=allow, timeout=5
        )
        assert (data, mimetype, name) == (b"\x89PNG tls", "image/png", "p.png")
        with pytest.raises(OSError, match="download failed: SSLCertVerification"):
            messaging.download(
                f"https://other.example:{port}/p.png", allow=allow, timeout=5
            )
    finally:
        server.shutdown()
