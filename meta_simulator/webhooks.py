"""Webhook sender: Meta → our app (docs/meta-facts.md §4.2-§4.4, §11 item 3).

What it imitates:

* bodies are JSON with non-ASCII escaped as lowercase ``\\uXXXX``
  (``ensure_ascii=True``) and signed over those exact bytes with
  ``X-Hub-Signature-256: sha256=<hex>`` (plus the legacy SHA-1 header);
* up to 1000 updates per POST, several entries and Pages per POST,
  no ordering guarantee (``shuffle``), duplicates (exact resends and the
  same update re-batched with other neighbours);
* retries of non-2xx/timeouts: immediately, then less and less often for
  36 h, then the updates are dropped; the schedule can be compressed with
  ``time_scale`` (default: 36 h in 3.6 s);
* a response timeout (20 s, the Messenger FAQ figure) and a switch that
  disables the subscription after N failed attempts in a row (Meta
  unsubscribes apps whose endpoint keeps failing, §4.4).
"""

import hashlib
import heapq
import hmac
import http.client
import json
import random
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

MAX_UPDATES_PER_POST = 1000
DEFAULT_RESPONSE_TIMEOUT = 20.0
#: Seconds after the first attempt at which attempt n+1 is made: immediately,
#: then decreasing frequency up to 36 h (129600 s); after that, drop (§4.4).
RETRY_OFFSETS = (
    0, 0, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 129600,
)  # fmt: skip
#: 36 h of Meta's schedule pass in 3.6 s unless told otherwise.
DEFAULT_TIME_SCALE = 1 / 36000


@dataclass(frozen=True)
class Update:
    """One webhook update: a single change or messaging event of one entry."""

    object: str
    entry_id: object
    kind: str  # "changes" | "messaging" | "standby"
    item: dict = field(compare=False, hash=False)
    time: int = 0
    key: str = ""


@dataclass
class Delivery:
    """One POST attempt as the receiver saw it."""

    url: str
    body: bytes
    signature: str
    signature_sha1: str
    status: int | None
    error: str | None
    latency: float
    attempt: int = 1
    kind: str = "original"  # original | retry | duplicate
    updates: tuple = ()
    response_body: bytes = b""
    sent_at: float = 0.0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class DeliveryReport:
    """What :meth:`WebhookSender.deliver_changes` did."""

    updates: list[Update]
    deliveries: list[Delivery] = field(default_factory=list)
    dropped: list[Update] = field(default_factory=list)
    disabled: bool = False
    posts: int = 0
    rebatched: int = 0

    @property
    def delivered_keys(self) -> set[str]:
        keys = set()
        for delivery in self.deliveries:
            if delivery.ok:
                keys.update(delivery.updates)
        return keys

    @property
    def counts(self) -> dict:
        return {
            "updates": len(self.updates),
            "posts": self.posts,
            "attempts": len(self.deliveries),
            "succeeded": sum(1 for d in self.deliveries if d.ok),
            "failed": sum(1 for d in self.deliveries if not d.ok),
            "retries": sum(1 for d in self.deliveries if d.kind == "retry"),
            "duplicates": sum(1 for d in self.deliveries if d.kind == "duplicate"),
            "rebatched": self.rebatched,
            "delivered_updates": len(self.delivered_keys),
            "dropped": len(self.dropped),
        }


# --- updates -----------------------------------------------------------------


def update_key(obj: str, kind: str, item: dict) -> str:
    """A natural identity for an update (what a receiver should dedupe on)."""
    if kind == "changes":
        field_name, value = item.get("field"), item.get("value") or {}
        if field_name == "leadgen":
            return f"leadgen:{value.get('leadgen_id')}"
        if field_name == "feed":
            ident = value.get("comment_id") or value.get("post_id")
            return f"feed:{ident}:{value.get('verb')}:{value.get('created_time')}"
        if field_name == "comments":
            return f"comments:{value.get('id') or value.get('comment_id')}"
        if field_name == "mentions":
            return f"mentions:{value.get('media_id')}:{value.get('comment_id')}"
    else:
        sender = (item.get("sender") or {}).get("id")
        stamp = item.get("timestamp")
        message = item.get("message")
        if message:
            flags = ":echo" if message.get("is_echo") else ""
            flags += ":deleted" if message.get("is_deleted") else ""
            return f"{kind}:message:{message.get('mid')}{flags}"
        for name in ("read", "delivery", "postback", "reaction"):
            if name in item:
                return f"{kind}:{name}:{sender}:{stamp}:{json.dumps(item[name])}"
    digest = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
    return f"{obj}:{kind}:{digest[:16]}"


def split_updates(events) -> list[Update]:
    """Updates from payloads (``{"object","entry"}``), or Update objects."""
    if isinstance(events, dict):
        events = [events]
    updates = []
    for event in events:
        if isinstance(event, Update):
            updates.append(event)
            continue
        obj = event["object"]
        for entry in event["entry"]:
            for kind in ("changes", "messaging", "standby"):
                for item in entry.get(kind, []):
                    updates.append(
                        Update(
                            obj,
                            entry["id"],
                            kind,
                            item,
                            entry.get("time", 0),
                            update_key(obj, kind, item),
                        )
                    )
    return updates


def build_body(updates: list[Update]) -> dict:
    """One delivery body; updates of the same entry id and kind share an entry."""
    entries: dict[tuple, dict] = {}
    for update in updates:
        slot = (str(update.entry_id), update.kind)
        entry = entries.get(slot)
        if entry is None:
            entry = {"id": update.entry_id, "time": update.time, update.kind: []}
            entries[slot] = entry
        entry[update.kind].append(update.item)
    return {"object": updates[0].object, "entry": list(entries.values())}


@dataclass
class _Job:
    body: bytes
    keys: tuple
    kind: str = "original"
    attempt: int = 1
    first_sent: float | None = None


# --- the sender --------------------------------------------------------------


class WebhookSender:
    """Delivers signed webhook POSTs to a callback URL and logs every attempt."""

    def __init__(
        self,
        app_secret: str,
        *,
        rng: random.Random | None = None,
        seed=0,
        on_disable=None,
        response_timeout: float = DEFAULT_RESPONSE_TIMEOUT,
        verify_tls: bool = True,
    ):
        self.app_secret = app_secret
        self.rng = rng or random.Random(f"meta-simulator:{seed}:webhooks")
        self.on_disable = on_disable
        self.response_timeout = response_timeout
        self.verify_tls = verify_tls
        self.log: list[Delivery] = []
        self._lock = threading.Lock()

    # encoding and signing (§4.3) ---------------------------------------------

    @staticmethod
    def encode(payload) -> bytes:
        """The exact bytes Meta sends: compact JSON, non-ASCII as ``\\uXXXX``."""
        if isinstance(payload, bytes):
            return payload
        return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode(
            "ascii"
        )

    def sign(self, body: bytes, secret: str | None = None) -> str:
        """``sha256=<hex>`` HMAC of the raw body with the app secret."""
        key = (secret if secret is not None else self.app_secret).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def sign_sha1(self, body: bytes, secret: str | None = None) -> str:
        """The legacy ``X-Hub-Signature`` value (receivers should ignore it)."""
        key = (secret if secret is not None else self.app_secret).encode()
        return "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # one POST ----------------------------------------------------------------

    def send(
        self,
        callback_url: str,
        payload,
        *,
        secret: str | None = None,
        headers: dict | None = None,
        timeout: float | None = None,
        attempt: int = 1,
        kind: str = "original",
        update_keys: tuple = (),
        elapsed: float = 0.0,
    ) -> Delivery:
        """POST one body (a payload dict or already-encoded bytes)."""
        body = self.encode(payload)
        signature, signature_sha1 = (
            self.sign(body, secret),
            self.sign_sha1(body, secret),
        )
        request_headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature-256": signature,
            "X-Hub-Signature": signature_sha1,
            **(headers or {}),
        }
        timeout = self.response_timeout if timeout is None else timeout
        sent_at, started = time.time(), time.perf_counter()
        status, error, answer = self._request(
            "POST", callback_url, body, request_headers, timeout
        )
        delivery = Delivery(
            url=callback_url,
            body=body,
            signature=signature,
            signature_sha1=signature_sha1,
            status=status,
            error=error,
            latency=time.perf_counter() - started,
            attempt=attempt,
            kind=kind,
            updates=tuple(update_keys),
            response_body=answer,
            sent_at=sent_at,
            elapsed=elapsed,
        )
        with self._lock:
            self.log.append(delivery)
        return delivery

    def _request(self, method, url, body, headers, timeout):
        parts = urlsplit(url)
        if parts.scheme == "https":
            context = None if self.verify_tls else ssl._create_unverified_context()
            conn = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=timeout
            )
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, None, response.read()
        except TimeoutError:
            return None, "timeout", b""
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}", b""
        finally:
            conn.close()

    # verification handshake (§4.2) -------------------------------------------

    def handshake(
        self,
        callback_url: str,
        verify_token: str,
        *,
        mode: str = "subscribe",
        timeout: float | None = None,
    ) -> tuple[int | None, str, str]:
        """GET ``hub.mode/hub.challenge/hub.verify_token``; returns
        ``(status, body text, challenge sent)``."""
        challenge = str(self.rng.randrange(10**9, 2**31 - 1))
        query = urlencode(
            {
                "hub.mode": mode,
                "hub.challenge": challenge,
                "hub.verify_token": verify_token,
            }
        )
        url = callback_url + ("&" if "?" in callback_url else "?") + query
        timeout = self.response_timeout if timeout is None else timeout
        status, _error, answer = self._request(
            "GET", url, None, {"User-Agent": "facebookplatform/1.0"}, timeout
        )
        return status, answer.decode("utf-8", "replace"), challenge

    # batched delivery with duplicates and retries (§4.4) ---------------------

    def deliver_changes(
        self,
        callback_url: str,
        entries_or_events,
        *,
        batch_size: int = 100,
        duplicate_rate: float = 0.0,
        rebatch_rate: float = 0.0,
        shuffle: bool = False,
        delay: float = 0.0,
        retry: bool = True,
        time_scale: float = DEFAULT_TIME_SCALE,
        response_timeout: float | None = None,
        disable_after_failures: int | None = None,
        secret: str | None = None,
        headers: dict | None = None,
    ) -> DeliveryReport:
        """Deliver updates the way Meta does and report what happened.

        ``entries_or_events``: payloads from :mod:`payloads` (or lists of
        :class:`Update`).  ``duplicate_rate``: share of acknowledged POSTs
        sent again byte for byte; ``rebatch_rate``: share of updates also
        sent inside another POST, with different neighbours.  Failed POSTs
        (non-2xx, timeout) are retried on :data:`RETRY_OFFSETS` × ``time_scale``
        when ``retry``; updates never acknowledged end in ``report.dropped``.
        """
        if not 1 <= batch_size <= MAX_UPDATES_PER_POST:
            raise ValueError("batch_size must be within 1..1000 (Meta's maximum)")
        updates = split_updates(entries_or_events)
        report = DeliveryReport(updates=list(updates))
        if not updates:
            return report
        order = list(updates)
        if shuffle:
            self.rng.shuffle(order)
        batches = self._batches(order, batch_size)
        report.rebatched = self._rebatch(batches, rebatch_rate, batch_size)
        jobs = deque(
            _Job(self.encode(build_body(b)), tuple(u.key for u in b)) for b in batches
        )
        report.posts = len(jobs)
        options = {"secret": secret, "headers": headers, "timeout": response_timeout}
        report.disabled = self._run(
            callback_url,
            jobs,
            report,
            options,
            retry=retry,
            time_scale=time_scale,
            delay=delay,
            duplicate_rate=duplicate_rate,
            disable_after_failures=disable_after_failures,
        )
        delivered = report.delivered_keys
        seen = set()
        for update in updates:
            if update.key not in delivered and update.key not in seen:
                seen.add(update.key)
                report.dropped.append(update)
        if report.disabled and self.on_disable is not None:
            self.on_disable(report)
        return report

    @staticmethod
    def _batches(updates: list[Update], size: int) -> list[list[Update]]:
        """Chunks of ≤ size updates; one ``object`` per POST."""
        by_object: dict[str, list[Update]] = {}
        for update in updates:
            by_object.setdefault(update.object, []).append(update)
        batches = []
        for group in by_object.values():
            batches.extend(group[i : i + size] for i in range(0, len(group), size))
        return batches

    def _rebatch(self, batches, rate: float, size: int) -> int:
        """Copy some updates into other POSTs (same update, new neighbours)."""
        if rate <= 0:
            return 0
        copies = 0
        for index in range(len(batches)):
            for update in list(batches[index]):
                if self.rng.random() >= rate:
                    continue
                targets = [
                    j
                    for j, batch in enumerate(batches)
                    if j != index
                    and len(batch) < size
                    and batch[0].object == update.object
                ]
                if targets:
                    batches[self.rng.choice(targets)].append(update)
                else:
                    batches.append([update])
                copies += 1
        return copies

    def _run(self, url, jobs, report, options, **policy) -> bool:
        """The delivery loop; returns True when the subscription got disabled."""
        waiting: list = []
        sequence = 0
        failures_in_a_row = 0
        started = time.monotonic()
        while jobs or waiting:
            if waiting and (not jobs or waiting[0][0] <= time.monotonic()):
                due, _seq, job = heapq.heappop(waiting)
                time.sleep(max(0.0, due - time.monotonic()))
            else:
                job = jobs.popleft()
                if policy["delay"] and report.deliveries:
                    time.sleep(policy["delay"])
            now = time.monotonic()
            if job.first_sent is None:
                job.first_sent = now
            delivery = self.send(
                url,
                job.body,
                attempt=job.attempt,
                kind="retry" if job.attempt > 1 else job.kind,
                update_keys=job.keys,
                elapsed=now - started,
                **options,
            )
            report.deliveries.append(delivery)
            if delivery.ok:
                failures_in_a_row = 0
                if job.kind == "original" and (
                    self.rng.random() < policy["duplicate_rate"]
                ):
                    duplicate = _Job(job.body, job.keys, kind="duplicate")
                    jobs.insert(self.rng.randint(0, len(jobs)), duplicate)
                continue
            failures_in_a_row += 1
            limit = policy["disable_after_failures"]
            if limit and failures_in_a_row >= limit:
                return True
            if policy["retry"] and job.attempt < len(RETRY_OFFSETS):
                offset = RETRY_OFFSETS[job.attempt] * policy["time_scale"]
                job.attempt += 1
                sequence += 1
                heapq.heappush(waiting, (job.first_sent + offset, sequence, job))
        return False
