"""18.0.2.0.0: Page connections become connections (the business side, its
token) owning assets (Pages, Instagram accounts, ad accounts, datasets)."""

from odoo import SUPERUSER_ID, api

from odoo.addons.meta_graph_connector.data_migrations import (
    migrate_accounts_to_connections,
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    migrate_accounts_to_connections(env)
