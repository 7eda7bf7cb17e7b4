"""Helpers shared by the simulator tests: a tiny Graph client that signs
calls with ``appsecret_proof`` and a local webhook receiver that can be told
to fail."""

import hashlib
import hmac
import http.server
import json
import threading
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import requests

START = 1790000000


def proof_for(secret: str, token: str, stamp: int | None = None) -> str:
    message = token if stamp is None else f"{token}|{stamp}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class Graph:
    """Minimal Graph client for tests (the real one lives elsewhere)."""

    def __init__(self, sim, token, version="v26.0", proof=True):
        self.sim, self.token, self.version, self.proof = sim, token, version, proof

    def url(self, path: str) -> str:
        prefix = f"/{self.version}" if self.version else ""
        return f"{self.sim.base_url}{prefix}/{path.lstrip('/')}"

    def params(self, params: dict) -> dict:
        params = dict(params)
        if self.token is not None:
            params.setdefault("access_token", self.token)
            if self.proof:
                params.setdefault(
                    "appsecret_proof", proof_for(self.sim.app_secret, self.token)
                )
        return params

    def get(self, path, timeout=10, **params):
        return requests.get(self.url(path), params=self.params(params), timeout=timeout)

    def post(self, path, timeout=10, **data):
        return requests.post(self.url(path), data=self.params(data), timeout=timeout)

    def delete(self, path, timeout=10, **params):
        return requests.delete(
            self.url(path), params=self.params(params), timeout=timeout
        )

    def as_token(self, token):
        return Graph(self.sim, token, self.version, self.proof)


class Receiver:
    """Records POSTs; fails the first ``fail_first`` ones with ``fail_status``;
    answers the GET handshake when ``verify_token`` matches."""

    def __init__(self):
        self.posts: list[SimpleNamespace] = []
        self.fail_first = 0
        self.fail_status = 500
        self.sleep = 0.0
        self.verify_token = "hush"
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                ok = query.get("hub.mode") == ["subscribe"] and query.get(
                    "hub.verify_token"
                ) == [receiver.verify_token]
                body = query["hub.challenge"][0].encode() if ok else b"forbidden"
                self._reply(200 if ok else 403, body)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    index = len(receiver.posts)
                    receiver.posts.append(
                        SimpleNamespace(
                            body=body,
                            headers=dict(self.headers),
                            at=time.monotonic(),
                        )
                    )
                if receiver.sleep:
                    time.sleep(receiver.sleep)
                status = receiver.fail_status if index < receiver.fail_first else 200
                self._reply(status, b"")

            def _reply(self, status, body):
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/meta/webhook"
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.02},
            daemon=True,
        )
        self.thread.start()

    def payloads(self) -> list[dict]:
        return [json.loads(post.body) for post in self.posts]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
