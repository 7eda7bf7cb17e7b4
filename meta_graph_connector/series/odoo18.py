"""Odoo 18.0: the names and calls this series has (see ``series``)."""

from contextlib import nullcontext

from odoo.api import Transaction  # noqa: F401 - exported

__all__ = [
    "PARTNER_PHONE_FIELDS",
    "PRESENCE_MODEL",
    "Transaction",
    "bus_send_store",
    "group_users",
    "is_user_available",
    "requests_from_elsewhere",
    "sql_constraints",
    "store_values",
    "xml_values",
]

#: The partner's phone numbers (18.0 has a mobile beside the phone).
PARTNER_PHONE_FIELDS = ("phone", "mobile")

#: Where a user's online presence is kept.
PRESENCE_MODEL = "bus.presence"


def sql_constraints(cls):
    """A model's ``_sql_constraints`` are this series' own declaration."""
    return cls


def xml_values(record, values):
    """Values the addon's data files write to ``record``, as this series
    names them (the data files use 18.0's names)."""
    return dict(values)


def store_values(store, records, values):
    """Add ``values`` of ``records`` to a Discuss store (from ``_to_store``)."""
    store.add(records, values)


def bus_send_store(partners, record, values):
    """Push ``values`` of ``record`` live to ``partners``' Discuss."""
    partners._bus_send_store(record, values)


def group_users(group):
    """The users of ``group`` (its own members)."""
    return group.users


def is_user_available(user):
    """Whether ``user`` is online now (modules may widen it)."""
    return user._is_user_available()


def requests_from_elsewhere(case, browser=None):
    """Tests: let requests into the test's Odoo that do not come from the
    test's own client (a browser driven by hand, the simulator's thread):
    18.0's test server takes them all."""
    return nullcontext()
