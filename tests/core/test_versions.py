"""Meta's version calendar, the warnings ahead of an expiry, and what a
newer version changes for a read (docs/meta-facts.md §1.2)."""

from datetime import date, timedelta

import pytest

from graph import versions
from graph.errors import InvalidRequestError


def test_the_calendar_knows_each_api_apart():
    v25 = versions.find("v25.0")
    assert v25.graph_expires == date(2028, 7, 29)
    assert v25.marketing_expires == date(2027, 2, 23)
    assert versions.find("v99.0") is None
    assert versions.expiry("v25.0") == (date(2028, 7, 29), "graph")
    # a connection with ad accounts retires with the Marketing API first
    both = (versions.GRAPH, versions.MARKETING)
    assert versions.expiry("v25.0", both) == (date(2027, 2, 23), "marketing")
    assert versions.expiry("v26.0", both) == (None, None), "not announced"
    assert versions.expiry("v99.0") == (None, None)


def test_the_next_version_is_one_that_shipped():
    assert versions.next_version("v26.0") == "v27.0"
    assert versions.next_version("v24.0") == "v25.0"
    assert versions.next_version("v27.0") is None
    assert versions.next_version("v26.0", today=date(2026, 11, 3)) is None
    assert versions.next_version("v26.0", today=date(2026, 11, 4)) == "v27.0"
    with pytest.raises(ValueError):
        versions.next_version("26")


@pytest.mark.parametrize(
    ("left", "warned", "expected"),
    [
        (120, 0, None),
        (90, 0, 90),
        (89, 90, None),  # told at 90 already
        (30, 90, 30),
        (29, 30, None),
        (7, 30, 7),
        (3, 7, None),
        (0, 7, None),
        (10, 0, 30),  # 90 and 30 crossed unseen: the nearer one, once
        (-5, 30, 7),  # already expired: still the last warning
    ],
)
def test_each_warning_once_at_90_30_and_7_days(left, warned, expected):
    today = date(2027, 1, 1)
    expires = today + timedelta(days=left)
    assert versions.warning_due(expires, today, warned) == expected
    assert versions.warning_due(None, today) is None


def test_a_deprecation_header_is_read():
    headers = {"X-Ad-Api-Version-Warning": "v24.0 is deprecated, upgrade to v25.0"}
    assert "upgrade" in versions.deprecation_warning(headers)
    assert versions.deprecation_warning({}) == ""
    assert versions.deprecation_warning(None) == ""


class _Versioned:
    """A client answering per path, raising for paths given an error."""

    def __init__(self, answers):
        self.answers = answers

    def get(self, path, params):
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_newer_version_is_compared_read_by_read():
    probes = [
        versions.Probe("lead_ads", "1/leadgen_forms", ("id", "name", "questions")),
        versions.Probe("pages", "1", ("id", "name")),
        versions.Probe("comments", "1/feed", ("id", "message")),
        versions.Probe("broken", "2", ("id",)),
    ]
    fails = InvalidRequestError("(#100) Tried accessing nonexisting field", code=100)
    current = _Versioned(
        {
            "1/leadgen_forms": {"data": [{"id": "3", "name": "F", "questions": []}]},
            "1": {"id": "1", "name": "P"},
            "1/feed": {"data": []},
            "2": fails,
        }
    )
    trial = _Versioned(
        {
            "1/leadgen_forms": {"data": [{"id": "3", "name": "F"}]},
            "1": fails,
            "1/feed": {"data": []},
            "2": fails,
        }
    )
    before = [versions.run_probe(current, p) for p in probes]
    after = [versions.run_probe(trial, p) for p in probes]
    findings = versions.compare(before, after)
    assert [(f.feature, f.kind, f.detail) for f in findings] == [
        ("lead_ads", "missing_fields", "questions"),
        ("pages", "error", str(fails)),
    ]


def test_the_reads_repeated_follow_the_asset_and_its_permissions():
    page = versions.probes_for("page", "1111", ["pages_messaging"])
    assert [p.feature for p in page] == ["pages", "messenger"]
    assert page[1].params == {"platform": "messenger", "limit": 1}
    full = versions.probes_for(
        "page", "1111", ["leads_retrieval", "pages_read_engagement", "pages_messaging"]
    )
    assert [p.feature for p in full] == ["pages", "lead_ads", "comments", "messenger"]
    assert [p.feature for p in versions.probes_for("ad_account", "act_42", [])] == [
        "ad_account",
        "audiences",
    ]
    assert versions.probes_for("something", "1", []) == []
    with pytest.raises(ValueError):
        versions.probes_for("page", "../me", [])
