from psycopg2.errors import UniqueViolation

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

#: The addon's unique and check constraints, by model. 19.0 ignores
#: ``_sql_constraints`` without an error: this list is what the database
#: must hold on every series.
CONSTRAINTS = {
    "discuss.channel": ("meta_conversation_unique", "meta_conversation_complete"),
    "meta.asset": ("external_unique",),
    "meta.audience.identifier": ("code_unique",),
    "meta.audience.member": ("member_unique",),
    "meta.conversion.event": ("event_unique",),
    "meta.deletion.request": ("code_unique", "request_key_unique"),
    "meta.import.job": ("asset_kind_uniq",),
    "meta.lead": ("leadgen_unique",),
    "meta.lead.erasure": ("leadgen_unique",),
    "meta.lead.form": ("form_unique",),
    "meta.lead.form.consent": ("checkbox_unique",),
    "meta.lead.form.field": ("question_unique",),
    "meta.social.comment": ("comment_unique",),
    "meta.social.contact": ("contact_unique",),
    "meta.social.post": ("post_unique",),
    "meta.suppression": ("key_unique",),
    "meta.webhook.event": ("key_unique",),
}


@tagged("post_install", "-at_install")
class TestDatabaseConstraints(TransactionCase):
    def test_every_constraint_is_in_the_database(self):
        for model, names in CONSTRAINTS.items():
            table = self.env[model]._table
            self.env.cr.execute(
                """SELECT c.conname, c.contype FROM pg_constraint c
                     JOIN pg_class t ON t.oid = c.conrelid
                    WHERE t.relname = %s AND c.contype IN ('u', 'c')""",
                [table],
            )
            found = dict(self.env.cr.fetchall())
            for name in names:
                self.assertIn(f"{table}_{name}", found, f"{model}: {name}")

    def test_the_database_refuses_a_second_event_with_the_same_key(self):
        Event = self.env["meta.webhook.event"]
        values = {"key": "leadgen:1", "kind": "leadgen", "payload": {}}
        Event.create(values)
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(UniqueViolation) as caught,
            self.env.cr.savepoint(),
        ):
            Event.create(values)
            Event.flush_model()
        self.assertEqual(
            caught.exception.diag.constraint_name, "meta_webhook_event_key_unique"
        )
