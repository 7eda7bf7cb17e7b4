"""18.0.2.1.0: CRM stages tell Meta's Conversions API which event a lead
reached. A new database names them at install (post_init_hook); a database
upgraded from an earlier version gets the same names here, so its stages
are not left silent (docs/meta-facts.md §8)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.stage"]._meta_default_conversion_events()
