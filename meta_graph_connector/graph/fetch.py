"""Fetching a file a webhook links to, without letting the link reach inside.

A signed delivery still carries what a person sent, and the URL of an
attachment is whatever the payload says. Fetched naively, a link to
``http://127.0.0.1:8069/web/database/selector``, to a cloud's metadata
address (``169.254.169.254``) or to a server of the company's network would
be read by Odoo and kept in the conversation (server-side request forgery).

So every address is resolved and checked before connecting, at every hop of
a redirect (followed here, at most :data:`MAX_REDIRECTS`): only addresses on
the public Internet, unless the caller explicitly allows the address and
port of its own sandbox (the Meta simulator). The connection goes to the
address that was checked, never to a second resolution of the name (DNS
rebinding). The whole transfer, headers included, has a deadline, not only
each read: a server sending one byte a second cannot hold a worker.
"""

import http.client
import io
import ipaddress
import socket
import ssl
import time
from urllib.parse import quote, urljoin, urlsplit

#: Redirects followed for one file, each hop checked again.
MAX_REDIRECTS = 5
#: Longest a whole download may take, in seconds, however slowly it comes:
#: Meta's largest file (25 MB) within it at under 2 Mbit/s.
DEADLINE = 120
#: Longest wait for one connection or one read, in seconds.
TIMEOUT = 20
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024
#: NAT64's well-known prefix: the last 32 bits are an IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DownloadFailed(OSError):
    """A download that did not complete (network, TLS, HTTP status, size cut
    short, deadline): an ``OSError`` saying so in its words."""


class DownloadRefused(ValueError):
    """A link Odoo does not fetch: not http(s), or an address that is not on
    the public Internet (loopback, private, link-local, multicast,
    reserved), directly or through a redirect."""


def sandbox_addresses(base_url):
    """The (address, port) pairs of a sandbox at ``base_url`` (the Meta
    simulator serves its files there), for ``allow`` of :func:`fetch`:
    only that server, not the rest of the machine or network it runs on.
    Empty when it cannot be resolved."""
    try:
        parts = urlsplit(base_url or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return frozenset()
    if not parts.hostname:
        return frozenset()
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError:
        return frozenset()
    return frozenset((str(_address(info[4][0])), port) for info in infos)


def is_public(address):
    """True for an address on the public Internet; an IPv4 address inside
    an IPv6 one (mapped, 6to4, NAT64) is judged as the IPv4 address."""
    ip = _address(address)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _address(text):
    ip = ipaddress.ip_address(str(text).split("%", 1)[0])
    if ip.version == 6:
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def fetch(
    url,
    *,
    max_bytes,
    allow_http=False,
    allow=(),
    timeout=TIMEOUT,
    deadline=DEADLINE,
):
    """GET ``url``: (bytes, MIME type), following redirects.

    :param allow_http: plain ``http://`` too (a sandbox); else https only.
    :param allow: (address, port) pairs that may be reached though they are
        not public (:func:`sandbox_addresses`).
    :param deadline: seconds for the whole download, redirects included.
    :raises DownloadRefused: (a ValueError) for a link or an address not
        fetched, ValueError above ``max_bytes``, OSError when it fails or
        takes longer than ``deadline``.
    """
    ends = time.monotonic() + deadline
    allowed = {(str(_address(address)), int(port)) for address, port in allow}
    for _hop in range(MAX_REDIRECTS + 1):
        url, result = _get_once(
            url,
            allow_http,
            allowed,
            max_bytes,
            timeout=timeout,
            ends=ends,
            deadline=deadline,
        )
        if result is not None:
            return result
    raise DownloadFailed(f"download failed: more than {MAX_REDIRECTS} redirects")


def _get_once(url, allow_http, allowed, max_bytes, *, timeout, ends, deadline):
    """One hop of :func:`fetch`: (``url``, (bytes, MIME type)), or
    (the redirect's URL, None)."""
    scheme, host, port, target = _split(url, allow_http)
    addresses = _checked_addresses(host, port, allowed)
    connection = _PinnedConnection(
        host, port, addresses, tls=scheme == "https", timeout=timeout, ends=ends
    )
    answer = None
    try:
        connection.request("GET", target, headers={"Accept": "*/*"})
        answer = connection.getresponse()
        return _answered(url, answer, max_bytes)
    except (_Late, http.client.HTTPException, OSError) as error:
        # (a certificate refused is an OSError and a ValueError: it is
        # a failed download, said so)
        if isinstance(error, _Late) or time.monotonic() >= ends:
            # the last wait was cut at the deadline
            raise DownloadFailed(
                f"download failed: it took longer than {deadline:g} s"
            ) from None
        if isinstance(error, DownloadFailed):
            raise
        raise DownloadFailed(f"download failed: {type(error).__name__}") from None
    finally:
        if answer is not None:
            answer.close()
        connection.close()


def _answered(url, answer, max_bytes):
    """What one answer gives :func:`_get_once`: a redirect or the file."""
    if answer.status in _REDIRECTS:
        location = answer.getheader("Location")
        if not location:
            raise DownloadFailed("download failed: a redirect without a Location")
        return urljoin(url, location.strip()), None
    if not 200 <= answer.status < 300:
        raise DownloadFailed(f"download failed: HTTPError {answer.status}")
    declared = answer.getheader("Content-Length") or ""
    if declared.isdigit() and int(declared) > max_bytes:
        raise ValueError("the file is larger than Meta's limit")
    data = _read(answer, max_bytes)
    mimetype = (answer.getheader("Content-Type") or "").split(";")[0].strip()
    return url, (data, mimetype)


def _split(url, allow_http):
    """(scheme, host, port, request target) of a link we may fetch."""
    schemes = ("https", "http") if allow_http else ("https",)
    if not isinstance(url, str):
        raise DownloadRefused("only https links are fetched")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise DownloadRefused("the link is not a valid URL") from None
    if parts.scheme.lower() not in schemes:
        raise DownloadRefused("only https links are fetched")
    if not parts.hostname:
        raise DownloadRefused("the link names no server")
    scheme = parts.scheme.lower()
    port = port or (443 if scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    # spaces and non-ASCII percent-encoded, the rest kept as sent
    target = quote(target, safe="".join(chr(c) for c in range(33, 127)))
    return scheme, parts.hostname, port, target


def _checked_addresses(host, port, allowed):
    """The addresses ``host`` resolves to, each one checked; refused when
    any is not public (a name pointing both out and in is not trusted)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise DownloadFailed(f"download failed: {type(error).__name__}") from None
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        ip = _address(sockaddr[0])
        if not is_public(ip) and (str(ip), port) not in allowed:
            raise DownloadRefused(
                "the link leads to an address that is not on the public "
                f"Internet ({ip})"
            )
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    return addresses


class _Late(Exception):
    """Internal: the download's deadline passed."""


def _left(ends, timeout):
    """Seconds to wait for the next step: the socket timeout, cut at the
    deadline; _Late once it has passed."""
    left = ends - time.monotonic()
    if left <= 0:
        raise _Late()
    return min(timeout, left)


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to addresses already checked (never resolved
    again), whose every step waits no later than the deadline."""

    def __init__(self, host, port, addresses, *, tls, timeout, ends):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses
        self._tls = tls
        self._ends = ends

    def connect(self):
        error = None
        for family, sockaddr in self._addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(_left(self._ends, self.timeout))
                sock.connect(sockaddr)
                if self._tls:
                    # one handshake call: Python bounds it by the timeout
                    sock.settimeout(_left(self._ends, self.timeout))
                    sock = _tls_context().wrap_socket(sock, server_hostname=self.host)
            except _Late:
                sock.close()
                raise
            except OSError as failed:
                sock.close()
                error = failed
                continue
            self.sock = _DeadlineSocket(sock, self._ends, self.timeout)
            return
        raise error or DownloadFailed("download failed: no address to connect to")


def _tls_context():
    """The system's certificate authorities, and the bundle requests uses
    (certifi) where it is installed, as the Graph client sees them."""
    context = ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        return context
    context.load_verify_locations(certifi.where())
    return context


class _DeadlineSocket:
    """What http.client uses of a socket, each read and write bounded by
    the deadline (a server trickling bytes, headers included)."""

    def __init__(self, sock, ends, timeout):
        self._sock = sock
        self._ends = ends
        self._timeout = timeout
        # like a socket's makefile(): closed once its readers are closed too
        # (http.client closes the connection of an HTTP/1.0 answer before
        # reading its body)
        self._readers = 0
        self._closing = False

    def sendall(self, data):
        self._sock.settimeout(_left(self._ends, self._timeout))
        self._sock.sendall(data)

    def recv_into(self, buffer):
        self._sock.settimeout(_left(self._ends, self._timeout))
        return self._sock.recv_into(buffer)

    def makefile(self, mode="rb", *args, **kwargs):
        self._readers += 1
        return io.BufferedReader(_RawReader(self), _CHUNK)

    def close(self):
        self._closing = True
        if not self._readers:
            self._sock.close()

    def _reader_closed(self):
        self._readers -= 1
        if self._closing and not self._readers:
            self._sock.close()


class _RawReader(io.RawIOBase):
    """The response stream http.client reads, through the deadline."""

    def __init__(self, sock):
        super().__init__()
        self._sock = sock

    def readable(self):
        return True

    def readinto(self, buffer):
        return self._sock.recv_into(buffer)

    def close(self):
        if not self.closed:
            self._sock._reader_closed()
        return super().close()


def _read(answer, max_bytes):
    """The body, refused above ``max_bytes`` and when it is cut short."""
    chunks, size = [], 0
    while True:
        chunk = answer.read1(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ValueError("the file is larger than Meta's limit")
        chunks.append(chunk)
    if answer.length:  # fewer bytes than its Content-Length said
        raise DownloadFailed("download failed: the file was cut short")
    return b"".join(chunks)
