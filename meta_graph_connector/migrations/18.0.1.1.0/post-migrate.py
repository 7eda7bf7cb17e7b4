"""18.0.1.1.0: the Meta app's values move from system parameters, where the
settings page exposed them to any user, to the system-only ``meta.app``."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["meta.app"]._meta_adopt_legacy_parameters()
    env["meta.app"]._meta_ensure_verify_token()
