"""The HTTP front: a quiet ThreadingHTTPServer handing requests to the sim."""

import json
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class Headers(dict):
    """Request headers as sent, looked up case-insensitively (HTTP semantics).

    ``sim.requests[i].headers["Authorization"]`` and ``.get("authorization")``
    both work, while iteration shows the names exactly as the client sent them.
    """

    def __init__(self, items=()):
        super().__init__(items)
        self._names = {name.lower(): name for name in self}

    def _name(self, key):
        return self._names.get(key.lower(), key) if isinstance(key, str) else key

    def __getitem__(self, key):
        return super().__getitem__(self._name(key))

    def __contains__(self, key):
        return super().__contains__(self._name(key))

    def __setitem__(self, key, value):
        key = self._name(key)
        self._names[key.lower()] = key
        super().__setitem__(key, value)

    def get(self, key, default=None):
        return super().get(self._name(key), default)


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sim):
        self.sim = sim
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address):
        """Clients that time out and hang up are part of the tests: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm and
    # the client's delayed ACK that costs ~40 ms per keep-alive answer, which
    # Meta's servers do not. TCP_NODELAY removes that artefact.
    disable_nagle_algorithm = True
    server_version = "MetaSimulator/1.0"
    sys_version = ""

    def do_GET(self):  # noqa: N802 - http.server naming
        self._serve()

    def do_POST(self):  # noqa: N802
        self._serve()

    def do_DELETE(self):  # noqa: N802
        self._serve()

    def do_PUT(self):  # noqa: N802
        self._serve()

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # noqa: A002 - no per-request noise
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = Headers(self.headers.items())
        status, answer_headers, payload = self.server.sim.handle_http(
            self.command, self.path, headers, body
        )
        try:
            self.send_response(status)
            for name, value in answer_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (read timeout during a hang fault).
            self.close_connection = True


def parse_body(headers: dict, body: bytes) -> dict:
    """Form parameters from a urlencoded, JSON or multipart body.

    See docs/meta-facts.md §1.1.
    """
    if not body:
        return {}
    content_type = headers.get("content-type", "")
    if "application/json" in content_type:
        try:
            decoded = json.loads(body)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
        }
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
