"""Deauthorize and Data Deletion callbacks, sent as Meta sends them."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests


class App:
    """A tiny app: records callbacks, answers data deletion requests."""

    def __init__(self, answer=None, status=200):
        self.received = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                app.received.append((self.path, self.headers["Content-Type"], body))
                payload = json.dumps(
                    answer
                    if answer is not None
                    else {"url": "https://odoo.example/s/1", "confirmation_code": "C1"}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app():
    instance = App()
    yield instance
    instance.close()


def _decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verify(signed, secret):
    signature, payload = signed.split(".")
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(_decode(signature), expected), json.loads(
        _decode(payload)
    )


def test_deauthorize_posts_a_signed_request(simulator, app):
    result = simulator.send_deauthorize(f"{app.url}/meta/deauthorize", "218471")
    assert result.status == 200
    path, content_type, body = app.received[0]
    assert path == "/meta/deauthorize"
    assert content_type == "application/x-www-form-urlencoded"
    (signed,) = parse_qs(body.decode())["signed_request"]
    assert "=" not in signed, "base64url without padding"
    valid, payload = _verify(signed, simulator.app_secret)
    assert valid
    assert payload["algorithm"] == "HMAC-SHA256"
    assert payload["user_id"] == "218471"
    assert isinstance(payload["issued_at"], int)
    assert simulator.app_callbacks == [result]


def test_data_deletion_checks_the_answer_shape(simulator, app):
    result = simulator.send_data_deletion(f"{app.url}/meta/data_deletion", "218471")
    assert result.valid
    assert result.answer == {
        "url": "https://odoo.example/s/1",
        "confirmation_code": "C1",
    }


@pytest.mark.parametrize(
    "answer",
    [
        {"url": "https://x"},
        {"confirmation_code": "C"},
        {"url": "ftp://x", "confirmation_code": "C"},
        [],
    ],
)
def test_a_wrong_data_deletion_answer_is_flagged(simulator, answer):
    app = App(answer=answer)
    try:
        result = simulator.send_data_deletion(app.url, "1")
    finally:
        app.close()
    assert not result.valid
    assert result.error


def test_a_forged_request_is_signed_with_another_secret(simulator, app):
    result = simulator.send_deauthorize(app.url, "1", secret="not-the-app-secret")
    (signed,) = parse_qs(app.received[0][2].decode())["signed_request"]
    assert not _verify(signed, simulator.app_secret)[0]
    assert result.status == 200  # what the app answers is the app's business


def test_callbacks_over_the_control_api(simulator, app):
    answer = requests.post(
        f"{simulator.base_url}/_sim/callbacks/data_deletion",
        json={"callback_url": app.url, "user_id": "42"},
        timeout=10,
    ).json()
    assert answer["valid"] is True
    answer = requests.post(
        f"{simulator.base_url}/_sim/callbacks/deauthorize",
        json={"callback_url": app.url, "user_id": "42"},
        timeout=10,
    ).json()
    assert answer["status"] == 200
