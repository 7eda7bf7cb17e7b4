"""Meta's API versions: the published calendar, what comes next, when to
warn, and what a newer version changes for the reads the addon makes
(docs/meta-facts.md §1.2).

Graph API: a version lives at least two years and expires two years after
its successor ships; a call to an expired version is served by the oldest
live one. Marketing API (ad accounts, Custom Audiences, the Conversions
API): the previous version is guaranteed only 90 days after a release;
calls to an expired one are upgraded when the endpoint did not change
(``X-Ad-Api-Version-Warning``), else refused with error 2635
(https://developers.facebook.com/docs/graph-api/changelog/versions,
https://developers.facebook.com/docs/marketing-api/marketing-api-changelog).
"""

import re
from dataclasses import dataclass, field
from datetime import date

from . import const
from .errors import GraphError
from .ids import node_id

GRAPH = "graph"
MARKETING = "marketing"
#: Days before an expiry the administrators are told, once each.
WARNING_DAYS = (90, 30, 7)
_VERSION_RE = re.compile(r"\Av(\d{1,3})\.(\d{1,2})\Z")
#: Headers by which Meta says a call used a version on its way out.
DEPRECATION_HEADERS = ("X-Ad-Api-Version-Warning",)


@dataclass(frozen=True)
class Version:
    """One version: when it shipped and when each API retires it (None: not
    announced yet)."""

    name: str
    released: date
    graph_expires: date | None = None
    marketing_expires: date | None = None

    def expires(self, api):
        return self.graph_expires if api == GRAPH else self.marketing_expires


#: The calendar as Meta published it (late 2026), newest first
#: (docs/meta-facts.md §1.2).
CALENDAR = (
    Version("v27.0", date(2026, 11, 4)),
    Version("v26.0", date(2026, 7, 29)),
    Version("v25.0", date(2026, 2, 18), date(2028, 7, 29), date(2027, 2, 23)),
    Version("v24.0", date(2025, 10, 8), date(2028, 2, 18), date(2026, 11, 10)),
    Version("v23.0", date(2025, 5, 29), date(2027, 10, 8), date(2026, 6, 9)),
    Version("v22.0", date(2025, 1, 21), date(2027, 5, 20), date(2026, 2, 19)),
    Version("v21.0", date(2024, 10, 2), date(2027, 1, 21), date(2025, 9, 9)),
    Version("v20.0", date(2024, 5, 21), date(2026, 9, 24), date(2025, 5, 6)),
)


def version_key(name):
    """(major, minor) of ``v26.0``; ValueError for another spelling."""
    match = _VERSION_RE.match(str(name or ""))
    if not match:
        raise ValueError(f"{name!r} is not a Meta API version")
    return int(match[1]), int(match[2])


def find(name, calendar=CALENDAR):
    """The calendar's entry for ``name``, or None (unknown to the addon)."""
    return next((v for v in calendar if v.name == name), None)


def next_version(name, calendar=CALENDAR, today=None):
    """The version after ``name`` that has shipped (by ``today``), or None."""
    key = version_key(name)
    newer = [
        v
        for v in calendar
        if version_key(v.name) > key and (today is None or v.released <= today)
    ]
    return min(newer, key=lambda v: version_key(v.name)).name if newer else None


def expiry(name, apis=(GRAPH,), calendar=CALENDAR):
    """The first date one of ``apis`` retires ``name`` (None: none announced),
    and which API that is."""
    version = find(name, calendar)
    if version is None:
        return None, None
    dates = [(version.expires(api), api) for api in apis if version.expires(api)]
    return min(dates) if dates else (None, None)


def warning_due(expires_on, today, warned_days=0):
    """The threshold of :data:`WARNING_DAYS` to warn at now, or None: each
    threshold once (``warned_days``: the last one told, 0 for none), the
    smallest one reached when several were crossed while nobody looked."""
    if not expires_on:
        return None
    left = (expires_on - today).days
    reached = [t for t in WARNING_DAYS if left <= t]
    if not reached:
        return None
    threshold = min(reached)
    if warned_days and warned_days <= threshold:
        return None
    return threshold


def deprecation_warning(headers):
    """What Meta says about a version on its way out in a response's
    headers, or ''."""
    for name in DEPRECATION_HEADERS:
        value = (headers or {}).get(name)
        if value:
            return str(value)[:500]
    return ""


# ------------------------------------------------------- try a version


@dataclass(frozen=True)
class Probe:
    """One read of a feature: ``path`` and its ``fields``."""

    feature: str
    path: str
    fields: tuple
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProbeResult:
    feature: str
    path: str
    error: str = ""
    fields: frozenset = frozenset()


def probes_for(asset_type, external_id, scopes):
    """The reads the addon makes for an asset, one per feature its token
    allows: what "try the next version" repeats at that version."""
    scopes = set(scopes or ())
    node = node_id(external_id, "asset id")
    one = {"limit": 1}
    if asset_type == "page":
        probes = [Probe("pages", node, ("id", "name", "instagram_business_account"))]
        if "leads_retrieval" in scopes:
            probes.append(
                Probe("lead_ads", f"{node}/leadgen_forms", const.FORM_FIELDS, one)
            )
        if "pages_read_engagement" in scopes:
            probes.append(
                Probe(
                    "comments",
                    f"{node}/feed",
                    ("id", "message", "created_time", "permalink_url"),
                    one,
                )
            )
        if "pages_messaging" in scopes:
            probes.append(
                Probe(
                    "messenger",
                    f"{node}/conversations",
                    ("id", "updated_time", "participants"),
                    {"platform": "messenger", **one},
                )
            )
        return probes
    if asset_type == "instagram":
        return [Probe("instagram", node, ("id", "username", "name"))]
    if asset_type == "ad_account":
        return [
            Probe("ad_account", node, ("id", "name", "currency", "account_status")),
            Probe(
                "audiences",
                f"{node}/customaudiences",
                ("id", "name", "subtype", "operation_status"),
                one,
            ),
        ]
    if asset_type == "dataset":
        return [Probe("conversions", node, ("id", "name"))]
    return []


def run_probe(client, probe):
    """Read ``probe`` with ``client``: the fields Meta returned (of the first
    item of a list), or the error it answered."""
    params = {"fields": ",".join(probe.fields), **probe.params}
    try:
        answer = client.get(probe.path, params)
    except GraphError as error:
        return ProbeResult(probe.feature, probe.path, error=str(error))
    node = answer
    if isinstance(answer, dict) and isinstance(answer.get("data"), list):
        node = answer["data"][0] if answer["data"] else None
    returned = frozenset(node) if isinstance(node, dict) else frozenset(probe.fields)
    return ProbeResult(probe.feature, probe.path, fields=returned)


@dataclass(frozen=True)
class Finding:
    """What the newer version does differently for one read."""

    feature: str
    path: str
    kind: str  # "error" (it fails there) or "missing_fields"
    detail: str


def compare(current, trial):
    """:class:`Finding`\\ s of ``trial`` (results at the newer version)
    against ``current`` (the same probes at the pinned one): a read that
    fails only there, or fields it no longer returns."""
    findings = []
    for before, after in zip(current, trial, strict=True):
        if after.error and not before.error:
            findings.append(Finding(after.feature, after.path, "error", after.error))
        elif not after.error and not before.error:
            missing = sorted(before.fields - after.fields)
            if missing:
                findings.append(
                    Finding(
                        after.feature, after.path, "missing_fields", ", ".join(missing)
                    )
                )
    return findings
