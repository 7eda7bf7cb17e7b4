"""Custom Audience rules shared by the routes and the simulator facade:
who is in an audience, how big Meta says it is, its statuses and the
replace session clock (docs/meta-facts.md §7).

Members are people, each a dict of matching keys (``EMAIL``, ``PHONE``,
``EXTERN_ID`` …, single-key schemas stored under the same names) to the
values uploaded.  Two rows are the same person when they share a value of
a strong key (``EMAIL``, ``PHONE``, ``MADID``, ``EXTERN_ID``); rows with
only weak keys (names, birth date, location) are the same person when all
their values are equal.  Every valid row matches one person (no match
rate) — a choice, Meta matches against its users [U].

Uploading never takes anyone out: Meta keeps whoever an earlier row
matched.  A row that completes a person with a new e-mail leaves the
person found by the old one too, until a removal names it (§7.3) [U].
"""

#: Keys of a multi-key ``schema`` (Custom Audience Users reference).
MULTI_KEYS = (
    "EXTERN_ID",
    "EMAIL",
    "PHONE",
    "GEN",
    "DOBY",
    "DOBM",
    "DOBD",
    "LN",
    "FN",
    "FI",
    "CT",
    "ST",
    "ZIP",
    "MADID",
    "COUNTRY",
)
#: Sent as they are; every other key is a SHA-256 hex digest (§7.5).
PLAIN_KEYS = frozenset({"EXTERN_ID", "MADID"})
#: Keys that identify a person on their own.
STRONG_KEYS = ("EMAIL", "PHONE", "MADID", "EXTERN_ID")
#: Single-key ``schema`` strings and the key they stand for.
SINGLE_KEYS = {
    **{f"{key}_SHA256": key for key in MULTI_KEYS if key not in PLAIN_KEYS},
    "EXTERN_ID": "EXTERN_ID",
    "MADID": "MADID",
    "MOBILE_ADVERTISER_ID": "MADID",
}
MULTI_HASHES = "MULTI_HASHES"
SINGLE_HASHES = "HASHES_OR_USER_IDS"

#: A replace session closes 90 minutes after its first batch (§7.4).
REPLACE_SESSION_SECONDS = 90 * 60
#: A lookalike's seed needs at least this many people (§7.6).
MIN_SEED_SIZE = 100
#: Below this, sizes are answered as the placeholder below (§7.2) [U].
SIZE_FLOOR = 1000
#: Delivery needs this many matched people (§7.2) [U].
MIN_DELIVERY_SIZE = 100

#: Rough Facebook populations for lookalike sizes; others 10 million [U].
COUNTRY_POPULATION = {
    "TR": 58_000_000,
    "AZ": 5_000_000,
    "DE": 40_000_000,
    "GB": 45_000_000,
    "US": 240_000_000,
}
DEFAULT_POPULATION = 10_000_000


class MemberSet:
    """The people of an audience, indexed by their strong identifiers."""

    def __init__(self, rows=()):
        self._rows: dict[int, dict] = {}
        #: every identifier a person was uploaded with, the latest or not
        self._known: dict[int, set] = {}
        self._index: dict[tuple, int] = {}
        self._next = 0
        for row in rows:
            self.add(row)

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self) -> list[dict]:
        """Copies of the members, oldest first."""
        return [dict(row) for row in self._rows.values()]

    @staticmethod
    def _pairs(row: dict) -> list[tuple]:
        strong = [(key, row[key]) for key in STRONG_KEYS if row.get(key)]
        return strong or [("*", frozenset(row.items()))]

    def _unindex(self, number: int) -> None:
        for pair in self._known.pop(number, ()):
            if self._index.get(pair) == number:
                del self._index[pair]

    def _reindex(self, number: int) -> None:
        known = self._known.setdefault(number, set())
        known.update(self._pairs(self._rows[number]))
        for pair in known:
            self._index[pair] = number

    def add(self, row: dict) -> None:
        """Add a person, or complete the one sharing an identifier (who is
        still found by the identifiers of their earlier rows)."""
        number = next(
            (self._index[p] for p in self._pairs(row) if p in self._index), None
        )
        if number is None:
            number, self._next = self._next, self._next + 1
            self._rows[number] = dict(row)
        else:
            if not [k for k in STRONG_KEYS if self._rows[number].get(k)]:
                # a person of weak keys only, completed: no longer found by
                # the whole of their old row
                self._unindex(number)
            self._rows[number].update(row)
        self._reindex(number)

    def finds(self, key: str, value: str) -> bool:
        """Is someone in the audience found by this identifier?"""
        return (key, value) in self._index

    def remove(self, row: dict, linked=()) -> int:
        """Remove whoever shares an identifier of ``row`` (or of ``linked``
        pairs); a row of weak keys only removes the people holding all of
        them.  Returns how many people left."""
        pairs = [(k, row[k]) for k in STRONG_KEYS if row.get(k)] + list(linked)
        if pairs:
            numbers = {self._index[p] for p in pairs if p in self._index}
        else:
            wanted = row.items()
            numbers = {n for n, r in self._rows.items() if wanted <= r.items()}
        for number in numbers:
            self._unindex(number)
            del self._rows[number]
        return len(numbers)


def link_extern_ids(account, rows) -> None:
    """Remember which identifiers came with each EXTERN_ID: Meta scopes
    EXTERN_ID to the ad account, so a later removal by EXTERN_ID alone
    finds the person in any of its audiences (§7.3)."""
    for row in rows:
        extern = row.get("EXTERN_ID")
        if extern:
            linked = account.extern_ids.setdefault(extern, set())
            linked.update((k, row[k]) for k in STRONG_KEYS if row.get(k))


def linked_pairs(account, row) -> set:
    extern = row.get("EXTERN_ID")
    return set(account.extern_ids.get(extern, ())) if extern else set()


# --- replace sessions ----------------------------------------------------------


def refresh(audience, now: float) -> None:
    """Close a replace session whose 90 minutes are over: the members it
    received replace the audience's (§7.4, our reading [U])."""
    session = audience.sessions.get(audience.replace_session)
    if session is None:
        audience.replace_session = None
        return
    deadline = session.started_at + REPLACE_SESSION_SECONDS
    if now >= deadline:
        finish_replace(audience, session, deadline, "timeout")


def finish_replace(audience, session, when: float, ended_by: str) -> None:
    audience.members = session.staged
    session.staged = None
    session.ended_by = ended_by
    session.ended_at = when
    audience.replace_session = None
    audience.time_updated = int(when)


# --- what Meta shows -----------------------------------------------------------


def size(audience, store) -> int:
    """The number of people Meta would count (lookalikes: a share of the
    countries' populations)."""
    if audience.subtype == "LOOKALIKE":
        spec = audience.lookalike_spec or {}
        share = spec.get("ratio", 0) - spec.get("starting_ratio", 0)
        people = sum(
            COUNTRY_POPULATION.get(c, DEFAULT_POPULATION) for c in spec_countries(spec)
        )
        return int(round(people * share))
    return len(audience.members)


def spec_countries(spec: dict) -> list[str]:
    if spec.get("country"):
        return [spec["country"]]
    geo = (spec.get("location_spec") or {}).get("geo_locations") or {}
    return list(geo.get("countries") or [])


def size_bounds(count: int) -> tuple[int, int]:
    """Coarse bounds: two significant digits, ``1000``/``1000`` below 1,000
    (a placeholder, not a count) [U]."""
    if count < SIZE_FLOOR:
        return SIZE_FLOOR, SIZE_FLOOR
    step = 10 ** (len(str(count)) - 2)
    lower = count // step * step
    return lower, lower + step


def operation_status(audience) -> dict:
    if audience.flag_code == 471:
        return {
            "code": 471,
            "description": "This audience has been flagged: it may suggest "
            "information not permitted under our terms and can't be used or "
            "edited until the restriction is resolved in Audience Manager.",
        }
    if audience.replace_session is not None:
        return {
            "code": 300,
            "description": "Replace in progress: the audience's people are being "
            "replaced by a new upload.",
        }
    return {"code": 200, "description": "Normal"}


def delivery_status(audience, count: int) -> dict:
    if audience.flag_code == 471:
        return {
            "code": 400,
            "description": "This audience is unavailable because it has been flagged.",
        }
    if audience.subtype != "LOOKALIKE" and count < MIN_DELIVERY_SIZE:
        return {
            "code": 300,
            "description": "This audience is too small to be used for ads delivery.",
        }
    return {"code": 200, "description": "This audience is ready for use."}
