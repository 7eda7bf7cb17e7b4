"""Seeded identifiers and tokens.

Every kind of id has its own random stream derived from the seed, so adding
a page does not shift the ids of later leads: the same seed and the same
sequence of ``add_*`` calls always give the same ids and tokens.
"""

import random
import string
import threading

_TOKEN_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    """Hands out unique digit-string ids and opaque tokens per seed."""

    def __init__(self, seed):
        self.seed = seed
        self._streams: dict[str, random.Random] = {}
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def rng(self, name: str) -> random.Random:
        """The named random stream (created on first use, seeded from ``seed``)."""
        with self._lock:
            stream = self._streams.get(name)
            if stream is None:
                # A str seed is hashed with SHA-512 by random.Random, so it is
                # stable across processes (unlike hash()).
                stream = random.Random(f"meta-simulator:{self.seed}:{name}")
                self._streams[name] = stream
            return stream

    def digits(self, kind: str, length: int = 15, prefix: str = "") -> str:
        """A new unique id of ``length`` digits starting with ``prefix``."""
        rng = self.rng(f"id:{kind}")
        free = length - len(prefix)
        low = 10 ** (free - 1) if not prefix else 0
        with self._lock:
            while True:
                value = f"{prefix}{rng.randrange(low, 10**free):0{free}d}"
                if value not in self._used:
                    self._used.add(value)
                    return value

    def reserve(self, value: str) -> None:
        """Mark an externally chosen id as taken."""
        with self._lock:
            self._used.add(str(value))

    def token(self, kind: str, prefix: str = "EAAB", length: int = 96) -> str:
        """A new opaque access token shaped like Meta's ``EAA…`` tokens."""
        rng = self.rng(f"token:{kind}")
        with self._lock:
            body = "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(length))
        return prefix + body

    def trace_id(self) -> str:
        """An ``fbtrace_id``-like string (Meta's start with ``A``)."""
        rng = self.rng("fbtrace")
        with self._lock:
            return "A" + "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(22))
