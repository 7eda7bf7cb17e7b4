"""What Odoo stores of Meta's times: naive UTC, whatever the input."""

from datetime import datetime, timedelta, timezone

from graph.times import to_naive_utc

NOON = datetime(2026, 10, 1, 12, 0)


def test_an_aware_time_becomes_naive_utc():
    assert to_naive_utc(NOON.replace(tzinfo=timezone.utc)) == NOON
    istanbul = timezone(timedelta(hours=3))
    assert to_naive_utc(datetime(2026, 10, 1, 15, 0, tzinfo=istanbul)) == NOON


def test_a_naive_time_is_taken_as_utc():
    assert to_naive_utc(NOON) == NOON


def test_no_time_stays_none():
    assert to_naive_utc(None) is None
    assert to_naive_utc("2026-10-01T12:00:00+0000") is None
