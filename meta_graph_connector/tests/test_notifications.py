from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .common import MetaCase


@tagged("post_install", "-at_install")
class TestLeadNotificationInBrowser(MetaCase, HttpCase):
    def setUp(self):
        super().setUp()
        # Odoo refuses websockets during tests unless a test opens them (as
        # bus' own WebsocketCase does): the toast comes through the bus.
        self.startPatcher(
            patch.object(
                WebsocketConnectionHandler, "websocket_allowed", return_value=True
            )
        )

    def test_a_burst_of_leads_is_one_toast_that_opens_them(self):
        admin = self.env.ref("base.user_admin")
        form = self.env["meta.lead.form"].create(
            {"name": "Kış Kampanyası", "page_id": self.page.id, "meta_form_id": "881"}
        )
        for name in ("Zeynep Kaya", "Mehmet Demir"):
            lead = self.env["crm.lead"].create(
                {"name": name, "contact_name": name, "user_id": admin.id}
            )
            lead._meta_notify_salesperson(form)
        # the bus stores its notifications when the transaction commits
        self.env.cr.precommit.run()
        self.start_tour(
            "/odoo", "meta_graph_connector_lead_notification", login="admin"
        )
