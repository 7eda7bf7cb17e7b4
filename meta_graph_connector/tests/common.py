import json
import threading
from unittest.mock import patch

from odoo.tests import HttpCase, TransactionCase, new_test_user

# The simulator is a package of this repository (pyproject.toml): `make
# test-odoo` installs it in Odoo's Python, as `pip install -e .` does.
from meta_simulator import MetaSimulator, payloads

from .. import series
from ..graph.webhook import sign

APP_ID = "424242"
APP_SECRET = "odoo_test_app_secret"
VERIFY_TOKEN = "odoo-test-verify-token"
PAGE_SCOPES = [
    "pages_show_list",
    "pages_manage_metadata",
    "pages_read_engagement",
    "leads_retrieval",
    "pages_manage_ads",
    "pages_messaging",
]


class MetaCase:
    """Shared fixture: a Meta simulator on loopback and a connected Page.

    Odoo's test framework lets requests reach 127.0.0.1 only, which is where
    the simulator listens: these tests exercise the real Graph client, HTTP
    and all, with no patched seam.
    """

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo 19.0's test handler compares the timeout with a number; the
        # Graph client gives requests (connect, read): the longer one here
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a Turkish company, whatever country the database was created with
        # (Odoo guesses one from the machine): local numbers are Turkish ones
        cls.env.company.country_id = cls.env.ref("base.tr")
        cls.meta_app = cls.env["meta.app"]._meta_get()
        cls.meta_app.write(
            {
                "app_id": APP_ID,
                "app_secret": APP_SECRET,
                "app_secret_previous": False,
                "verify_token": VERIFY_TOKEN,
                "api_version": "v26.0",
            }
        )
        cls.meta_admin = new_test_user(
            cls.env,
            login="meta_admin",
            groups="base.group_user,meta_graph_connector.group_meta_admin",
            name="Meta Admin",
        )
        cls.salesman = new_test_user(
            cls.env,
            login="meta_salesman",
            groups="sales_team.group_sale_salesman",
            name="Sales Person",
        )

    def setUp(self):
        super().setUp()
        # A fresh Meta per test: its state (tokens, subscriptions) is not
        # rolled back with the database.
        self.simulator = MetaSimulator(seed=18, app_id=APP_ID, app_secret=APP_SECRET)
        self.simulator.start()
        self.addCleanup(self.simulator.stop)
        if isinstance(self, HttpCase):
            self._meta_let_the_simulator_in()
        self.meta_app.graph_base_url = self.simulator.base_url
        self.sim_page = self.simulator.add_page(
            name="Anadolu Mobilya", ig_account_id=True
        )
        self.system_token = self.simulator.add_user_token(
            scopes=PAGE_SCOPES, pages=[self.sim_page["id"]], token_type="SYSTEM_USER"
        )
        self.connection = self.env["meta.connection"].create(
            {
                "name": "Anadolu Mobilya Business",
                "access_token": self.system_token,
                "user_id": self.meta_admin.id,
            }
        )
        self.page = self.env["meta.asset"].create(
            {
                "name": self.sim_page["name"],
                "connection_id": self.connection.id,
                "asset_type": "page",
                "external_id": self.sim_page["id"],
                "access_token": self.sim_page["access_token"],
            }
        )
        self.instagram = self.env["meta.asset"].create(
            {
                "name": "anadolumobilya",
                "connection_id": self.connection.id,
                "asset_type": "instagram",
                "external_id": self.sim_page["ig_account_id"],
                "parent_id": self.page.id,
            }
        )

    # ------------------------------------------------------------ helpers

    def connect_ad_account(self, name="Ege Reklam"):
        """An ad account at the simulator, the connection's token given
        ``ads_management`` on it, and its asset in Odoo."""
        account = self.simulator.add_ad_account(name)
        self.connection.sudo().access_token = self.simulator.add_user_token(
            scopes=[*PAGE_SCOPES, "ads_management"],
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
            ad_accounts=[account["id"]],
        )
        return self.env["meta.asset"].create(
            {
                "name": name,
                "connection_id": self.connection.id,
                "asset_type": "ad_account",
                "external_id": account["id"],
            }
        )

    def speak_turkish(self, user):
        """Turkish installed with the addon's and Odoo's terms, for ``user``
        (a browser tour then walks the screens in Turkish)."""
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            ["meta_graph_connector", "crm", "web", "mail", "base"],
            ["tr_TR"],
            overwrite=True,
        )
        user.write({"lang": "tr_TR", "password": user.login})

    def drain_queue(self, queue="meta.webhook.event", max_runs=100):
        """Run the queue's lane again and again until nothing is due, as the
        scheduler does, each run without the time budget that ends a run in
        production: bounded by the number of runs, never by the machine's
        speed. Returns how many items were processed."""
        Queue = self.env[queue] if isinstance(queue, str) else queue
        total = 0
        for _run in range(max_runs):
            processed = Queue._meta_process_queue(time_budget=None)
            if not processed:
                break
            total += processed
        return total

    def send_outbox(self):
        """Run the outbox lane, as the cron does seconds after a request."""
        return self.env["meta.outbox"]._cron_process_outbox()

    @staticmethod
    def encode(payload):
        return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()

    def leadgen_delivery(self, count=1, page_id=None, start=0):
        page_id = page_id or self.sim_page["id"]
        changes = [
            payloads.leadgen_change(
                {
                    "id": str(900000000000000 + start + index),
                    "form_id": "3333",
                    "ad_id": "4444",
                    "created_time": 1790000000 + index,
                },
                page_id=page_id,
            )
            for index in range(count)
        ]
        return payloads.delivery("page", changes)

    def _meta_let_the_simulator_in(self):
        """The simulator calls this Odoo as Meta does (webhooks, the app's
        callbacks), without the test client's cookie, which 19.0's test
        server asks for."""
        for owner, name in (
            (self.simulator.webhooks, "_request"),
            (self.simulator, "_app_callback"),
        ):
            send = getattr(owner, name)

            def request(*args, send=send, **kwargs):
                if threading.current_thread() is not threading.main_thread():
                    return send(*args, **kwargs)
                with series.requests_from_elsewhere(self):
                    return send(*args, **kwargs)

            self.startPatcher(patch.object(owner, name, request))


class MetaTransactionCase(MetaCase, TransactionCase):
    pass


class MetaHttpCase(MetaCase, HttpCase):
    def post_delivery(self, body, secret=APP_SECRET, headers=None):
        all_headers = {"Content-Type": "application/json"}
        if secret:
            all_headers["X-Hub-Signature-256"] = sign(body, secret)
        all_headers.update(headers or {})
        return self.url_open("/meta/webhook", data=body, headers=all_headers)
