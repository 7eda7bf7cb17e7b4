"""Odoo 19.0: the names and calls this series has (see ``series``)."""

from odoo import models
from odoo.orm.environments import Transaction  # noqa: F401 - exported

from odoo.addons.mail.tools.discuss import Store

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

#: The partner's phone numbers (19.0 has one phone).
PARTNER_PHONE_FIELDS = ("phone",)

#: 18.0's field names (those of the data files) that 19.0 renamed, by model.
RENAMED = {
    "res.groups": {"users": "user_ids", "category_id": "privilege_id"},
    "res.users": {"groups_id": "group_ids"},
    "ir.actions.act_window": {"groups_id": "group_ids"},
    "ir.actions.report": {"groups_id": "group_ids"},
    "ir.actions.server": {"groups_id": "group_ids"},
}
#: 18.0 values 19.0 no longer has: (model, field) → values dropped.
DROPPED = {("ir.actions.act_window", "target"): {"inline"}}

#: Where a user's online presence is kept.
PRESENCE_MODEL = "mail.presence"


def sql_constraints(cls):
    """19.0 ignores ``_sql_constraints``: declare each as a
    ``models.Constraint`` of the class, under the same name (so the
    database constraint of an upgraded 18.0 database is the same one)."""
    for name, definition, message in cls.__dict__.get("_sql_constraints", ()):
        constraint = models.Constraint(definition, message)
        setattr(cls, f"_{name}", constraint)
        constraint.__set_name__(cls, f"_{name}")
    if "_sql_constraints" in cls.__dict__:
        del cls._sql_constraints
    return cls


def xml_values(record, values):
    """Values the addon's data files write to ``record`` (18.0's names), as
    19.0 names them: a group under a module category goes under that
    category's privilege."""
    renamed = RENAMED.get(record._name, {})
    values = {
        renamed.get(field, field): value
        for field, value in values.items()
        if not (
            isinstance(value, str) and value in DROPPED.get((record._name, field), ())
        )
    }
    if record._name == "res.groups" and values.get("privilege_id"):
        category = record.env["ir.module.category"].browse(values["privilege_id"])
        values["privilege_id"] = _privilege(category).id
    return values


def _privilege(category):
    """The privilege of a module category (19.0 puts groups under a
    privilege, the privilege under the category): made from the category,
    its external id beside the category's, loaded again at each update as
    a data file's record is."""
    xmlid = category.get_external_id()[category.id]
    return category.env["res.groups.privilege"]._load_records(
        [
            {
                "xml_id": f"{xmlid}_privilege",
                "values": {
                    "name": category.name,
                    "description": category.description,
                    "sequence": category.sequence,
                    "category_id": category.id,
                },
            }
        ]
    )


def store_values(store, records, values):
    """Add ``values`` of ``records`` to a Discuss store (from ``_to_store``:
    19.0's ``add`` would call it again)."""
    store.add_records_fields(records, values)


def bus_send_store(partners, record, values):
    """Push ``values`` of ``record`` live to ``partners``' Discuss."""
    # a store is sent to one bus channel at a time
    for partner in partners:
        Store(bus_channel=partner).add_records_fields(record, values).bus_send()


def group_users(group):
    """The users of ``group`` (its own members)."""
    return group.user_ids


def is_user_available(user):
    """Whether ``user`` is online now."""
    return user.im_status == "online"


def requests_from_elsewhere(case, browser=None):
    """Tests: let requests into the test's Odoo that do not come from the
    test's own client (a browser driven by hand, the simulator's thread):
    19.0's test server refuses those without the test's cookie."""
    return case.allow_requests(browser=browser, all_requests=True)
