"""18.0.2.3.0: the erasure of old conversation content is the work of its
own model (``meta.conversation.retention``), no longer of ``discuss.channel``.
The cron's record is ``noupdate``: it is pointed at that model here, keeping
its schedule and any change an administrator made to it."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref(
        "meta_graph_connector.ir_cron_meta_erase_conversations",
        raise_if_not_found=False,
    )
    if cron:
        cron.model_id = env["ir.model"]._get_id("meta.conversation.retention")
