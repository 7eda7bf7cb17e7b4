import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import series
from ..graph import api as meta_api
from ..graph.errors import GraphError

_logger = logging.getLogger(__name__)

ASSET_TYPES = [
    ("page", "Facebook Page"),
    ("instagram", "Instagram Account"),
    ("ad_account", "Ad Account"),
    ("dataset", "Dataset"),
]


@series.sql_constraints
class MetaAsset(models.Model):
    """Something a connection gives access to on Meta: a Facebook Page, an
    Instagram professional account, an ad account or a dataset (pixel).

    A Page carries its own Page token (obtained through the connection's
    token); its linked Instagram account is reached with that same token; ad
    accounts and datasets are reached with the connection's token.
    """

    _name = "meta.asset"
    _description = "Meta Asset"
    _inherit = ["meta.admin.mixin", "meta.outbox.origin"]
    _order = "asset_type, name, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    connection_id = fields.Many2one(
        "meta.connection",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, readonly=True
    )
    state = fields.Selection(related="connection_id.state")
    asset_type = fields.Selection(ASSET_TYPES, string="Type", required=True)
    external_id = fields.Char(
        string="Meta ID", required=True, index=True, readonly=True, copy=False
    )
    parent_id = fields.Many2one(
        "meta.asset",
        string="Linked Page",
        index="btree_not_null",
        ondelete="cascade",
        help="The Facebook Page an Instagram professional account is linked to.",
    )
    child_ids = fields.One2many("meta.asset", "parent_id", string="Linked Accounts")
    access_token = fields.Char(
        string="Page Token", groups="base.group_system", copy=False, prefetch=False
    )
    page_tasks = fields.Char(string="Tasks on the Page", readonly=True)
    username = fields.Char(readonly=True, help="The Instagram username.")
    currency = fields.Char(readonly=True)
    account_status = fields.Integer(readonly=True)
    webhook_fields = fields.Char(string="Subscribed Webhook Fields", readonly=True)
    webhook_ok = fields.Boolean(
        string="Webhooks Subscribed", compute="_compute_webhook_ok"
    )
    page_tasks_text = fields.Text(
        string="What You May Do on the Page", compute="_compute_readable_lists"
    )
    webhook_fields_text = fields.Text(
        string="Events Received Live", compute="_compute_readable_lists"
    )
    subscription_alerted = fields.Boolean(
        readonly=True,
        copy=False,
        help="The administrators were told that Meta lost a webhook "
        "subscription; reset once it is complete again.",
    )

    _sql_constraints = [
        (
            "external_unique",
            "unique(asset_type, external_id)",
            "This Meta asset is already connected.",
        ),
    ]

    @api.depends("webhook_fields", "connection_id.granted_scopes", "asset_type")
    def _compute_webhook_ok(self):
        for asset in self:
            if asset.asset_type != "page":
                asset.webhook_ok = False
                continue
            current = set((asset.webhook_fields or "").split(","))
            asset.webhook_ok = set(asset._meta_expected_webhook_fields()) <= current

    @api.depends("page_tasks", "webhook_fields")
    def _compute_readable_lists(self):
        tasks = {
            "MANAGE": self.env._("Manage the Page"),
            "CREATE_CONTENT": self.env._("Publish content"),
            "MODERATE": self.env._("Moderate comments"),
            "MESSAGING": self.env._("Send messages"),
            "ADVERTISE": self.env._("Advertise"),
            "ANALYZE": self.env._("See insights"),
        }
        events = {
            "leadgen": self.env._("Lead Ads submissions"),
            "feed": self.env._("Page posts and comments"),
            "mention": self.env._("Page mentions"),
            "messages": self.env._("Messenger messages"),
            "message_echoes": self.env._("Messages sent by the Page"),
            "messaging_postbacks": self.env._("Messenger button presses"),
            "message_reads": self.env._("Messenger read receipts"),
            "message_deliveries": self.env._("Messenger delivery receipts"),
            "message_reactions": self.env._("Messenger reactions"),
        }
        for asset in self:
            asset.page_tasks_text = (
                "\n".join(
                    tasks.get(task, task)
                    for task in asset._meta_split(asset.page_tasks)
                )
                or False
            )
            asset.webhook_fields_text = (
                "\n".join(
                    f"{events.get(name, name)} ({name})"
                    for name in asset._meta_split(asset.webhook_fields)
                )
                or False
            )

    @staticmethod
    def _meta_split(value):
        return [item for item in (value or "").split(",") if item]

    # ------------------------------------------------------------ actions

    def action_subscribe_webhooks(self):
        self._meta_check_admin()
        self.filtered(lambda a: a.asset_type == "page")._meta_request_subscription()
        return self.connection_id[:1]._meta_notification(
            self.env._(
                "Subscription requested: Meta is asked in the background, "
                "the fields appear here in a few seconds."
            )
        )

    def action_sync_lead_forms(self):
        self._meta_check_admin()
        for page in self.filtered(lambda a: a.asset_type == "page"):
            try:
                self.env["meta.lead.form"]._meta_sync_forms(page)
            except GraphError as error:
                return page.connection_id._meta_notification(str(error), kind="warning")
        return self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.meta_lead_form_action"
        ) | {"domain": [("page_id", "in", self.ids)]}

    # ----------------------------------------------------------- the door

    def _meta_has_own_token(self):
        """Pages and their Instagram accounts are reached with the Page token."""
        self.ensure_one()
        return self.asset_type in ("page", "instagram")

    def _meta_token_holder(self):
        """The asset whose token reaches this one (a Page for Instagram)."""
        self.ensure_one()
        return self.parent_id if self.asset_type == "instagram" else self

    def _meta_call(self, operation, *args, **kwargs):
        """Run a core operation with this asset's token (see the connection)."""
        self.ensure_one()
        return self.connection_id._meta_call(
            operation, *args, asset=self._meta_token_holder(), **kwargs
        )

    # ------------------------------------------------------- webhooks

    def _meta_expected_webhook_fields(self):
        """Page fields to subscribe: those carrying the kinds something
        handles, among those the connection's permissions allow."""
        self.ensure_one()
        scopes = self.connection_id.granted_scopes
        kinds = self.env["meta.webhook.event"]._meta_handled_kinds()
        return meta_api.page_fields(kinds, scopes.split(",") if scopes else None)

    def _meta_request_subscription(self):
        """Queue the subscription of these Pages' webhook fields (outbox)."""
        Outbox = self.env["meta.outbox"]
        for page in self:
            fields_wanted = page._meta_expected_webhook_fields()
            if fields_wanted:
                Outbox._meta_enqueue(
                    page,
                    "subscribe_page",
                    {"page_id": page.external_id, "fields": list(fields_wanted)},
                    origin=page,
                )

    def _meta_request_unsubscription(self):
        """Queue the end of these Pages' webhook subscriptions (outbox)."""
        for page in self:
            self.env["meta.outbox"]._meta_enqueue(
                page,
                "unsubscribe_page",
                {"page_id": page.external_id},
                origin=page,
            )

    def _meta_outbox_done(self, item, result):
        """A subscription change reached Meta: read back what Meta keeps."""
        if item.operation == "subscribe_page":
            try:
                fields_now = self._meta_call(
                    meta_api.page_subscriptions, self.external_id, self._meta_app_id()
                )
            except GraphError as error:
                self.connection_id.last_error = str(error)
                return
            self.webhook_fields = ",".join(sorted(fields_now))
        elif item.operation == "unsubscribe_page":
            self.webhook_fields = False
            self.connection_id._meta_forget_tokens_once_unsubscribed(sent=item)

    def _meta_outbox_gave_up(self, item, error, reason):
        if item.operation == "unsubscribe_page":
            # a disconnection does not wait forever for Meta's answer
            self.connection_id._meta_forget_tokens_once_unsubscribed()

    def _meta_subscribe_webhooks(self):
        """Subscribe the app to this Page's fields, then read them back
        (the health cron's repair; users' requests go through the outbox)."""
        self.ensure_one()
        fields_wanted = self._meta_expected_webhook_fields()
        try:
            if fields_wanted:
                self._meta_call(
                    meta_api.subscribe_page, self.external_id, fields_wanted
                )
            fields_now = self._meta_call(
                meta_api.page_subscriptions, self.external_id, self._meta_app_id()
            )
        except GraphError as error:
            self.connection_id.last_error = str(error)
            return False
        self.write({"webhook_fields": ",".join(sorted(fields_now))})
        return True

    def _meta_check_subscription(self):
        """Compare what Meta reports with what is needed; re-subscribe a
        missing field and tell the administrators once ("connected, but
        nothing arrives" is what users of other inboxes complain about)."""
        self.ensure_one()
        try:
            fields_now = self._meta_call(
                meta_api.page_subscriptions, self.external_id, self._meta_app_id()
            )
        except GraphError as error:
            self.connection_id.last_error = str(error)
            return False
        missing = set(self._meta_expected_webhook_fields()) - set(fields_now)
        self.webhook_fields = ",".join(sorted(fields_now))
        if not missing:
            self.subscription_alerted = False
            return True
        repaired = self._meta_subscribe_webhooks() and self.webhook_ok
        if not self.subscription_alerted:
            self.subscription_alerted = True
            self.connection_id._meta_alert(
                lambda connection: (
                    connection.env._("Meta webhook subscription was missing"),
                    connection.env._(
                        "Meta no longer sent %(fields)s of the Page %(page)s to "
                        "Odoo. %(outcome)s",
                        fields=", ".join(sorted(missing)),
                        page=self.name,
                        outcome=connection.env._("It was subscribed again.")
                        if repaired
                        else connection.env._(
                            "Subscribing again failed: check the connection's "
                            "permissions, then “Subscribe to Webhooks”."
                        ),
                    ),
                )
            )
        return repaired

    def _meta_app_id(self):
        return self.env["meta.app"]._meta_config()["app_id"] or None

    # ------------------------------------------------------ discovery

    @api.model
    def _meta_upsert_pages(self, connection, pages):
        """Create or update Page assets (and their Instagram accounts)."""
        values = []
        for page in pages:
            values.append(
                (
                    ("page", page.page_id),
                    {
                        "name": page.name or page.page_id,
                        "access_token": page.access_token,
                        "page_tasks": ",".join(page.tasks),
                    },
                    None,
                )
            )
            if page.instagram_id:
                values.append(
                    (
                        ("instagram", page.instagram_id),
                        {
                            "name": page.instagram_username or page.instagram_id,
                            "username": page.instagram_username or False,
                        },
                        ("page", page.page_id),
                    )
                )
        return self._meta_upsert(connection, values)

    @api.model
    def _meta_upsert_assets(self, connection, assets):
        """Create or update ad account and dataset assets."""
        return self._meta_upsert(
            connection,
            [
                (
                    (asset.asset_type, asset.external_id),
                    {
                        "name": asset.name or asset.external_id,
                        "currency": asset.currency or False,
                        "account_status": asset.account_status or 0,
                    },
                    None,
                )
                for asset in assets
            ],
        )

    @api.model
    def _meta_upsert(self, connection, values):
        """``values``: ((type, Meta id), field values, parent (type, id) or None).

        An asset known under another connection of the same company moves to
        this one (a reconnection with a new token), unless that would narrow
        what already works: a Page that a working connection serves for
        features this connection's token was not granted (Messenger,
        comments…) stays where it is, and the connect wizard says what would
        stop and asks (``meta_move_assets`` in the context moves it all the
        same). One of another company is refused: an asset belongs to one
        company.
        """
        # sudo: meta.asset - Page tokens are system-only fields; Meta
        # administrators store them through the connect flow without reading.
        Asset = self.sudo().with_context(active_test=False)
        keys = [key for key, _vals, _parent in values]
        existing = {
            (a.asset_type, a.external_id): a
            for a in Asset.search(
                [("external_id", "in", [external for _type, external in keys])]
            )
        }
        assets = Asset.browse()
        for key, vals, parent_key in values:
            asset = existing.get(key)
            if asset and asset.company_id != connection.company_id:
                raise UserError(
                    self.env._(
                        "%(asset)s is already connected in company %(company)s.",
                        asset=asset.name,
                        company=asset.company_id.name,
                    )
                )
            if asset and connection._meta_features_lost_by_moving(asset):
                assets |= asset
                continue
            vals = {**vals, "connection_id": connection.id, "active": True}
            if parent_key:
                vals["parent_id"] = existing[parent_key].id
            if asset:
                asset.write(vals)
            else:
                asset = Asset.create(
                    {**vals, "asset_type": key[0], "external_id": key[1]}
                )
                existing[key] = asset
            assets |= asset
        return assets.sudo(False)

    @api.model
    def _meta_by_external_id(self, external_ids):
        """Pages and Instagram accounts by Meta id, for routing webhooks."""
        external_ids = [i for i in external_ids if i]
        if not external_ids:
            return {}
        # sudo: meta.asset - routing an event to its asset happens for the
        # public webhook route and the cron, whatever the company.
        assets = (
            self.sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("external_id", "in", external_ids),
                    ("asset_type", "in", ("page", "instagram")),
                ]
            )
        )
        return {asset.external_id: asset for asset in assets}

    # ------------------------------------------------------- comments

    comment_import_days = fields.Integer(
        string="Import Comments of the Last (Days)",
        default=30,
        help="On connection, the comments of the posts of these last days "
        "are imported; 0 imports none.",
    )
    # the state of the import lives on its job (meta.import.job); shown here
    import_job_ids = fields.One2many("meta.import.job", "asset_id", readonly=True)
    comment_import_state = fields.Selection(
        selection="_meta_import_states",
        compute="_compute_import_jobs",
    )
    comment_import_error = fields.Char(compute="_compute_import_jobs")

    def _meta_import_states(self):
        return (
            self.env["meta.import.job"]
            ._fields["state"]
            ._description_selection(self.env)
        )

    @api.depends("import_job_ids.state", "import_job_ids.last_error")
    def _compute_import_jobs(self):
        # sudo: meta.import.job - the system's import, shown on the asset
        jobs = (
            self.env["meta.import.job"]
            .sudo()
            .search([("asset_id", "in", self._origin.ids)])
        )
        for asset in self:
            mine = {job.kind: job for job in jobs if job.asset_id == asset._origin}
            for kind, prefix in (("comments", "comment"), ("conversations", "inbox")):
                job = mine.get(kind)
                asset[f"{prefix}_import_state"] = job.state if job else "pending"
                asset[f"{prefix}_import_error"] = job.last_error if job else False

    def action_import_comments_again(self):
        self._meta_check_admin()
        self.env["meta.import.job"]._meta_restart(self, "comments")
        return True

    # ------------------------------------------------------- conversations

    inbox_team_id = fields.Many2one(
        "crm.team",
        check_company=True,
        help="Messenger or Instagram conversations of this Page or account go "
        "to the least busy available member of this team, else to the whole "
        "team. Empty: the company's first sales team.",
    )
    inbox_import_days = fields.Integer(
        string="Import Conversations of the Last (Days)",
        default=30,
        help="On connection, the conversations updated in these last days are "
        "imported with their latest messages (Meta keeps about 20 readable); "
        "0 imports none.",
    )
    inbox_import_state = fields.Selection(
        selection="_meta_import_states",
        compute="_compute_import_jobs",
    )
    inbox_import_error = fields.Char(compute="_compute_import_jobs")

    @api.model_create_multi
    def create(self, vals_list):
        assets = super().create(vals_list)
        # a Page or an account just connected: its recent comments and
        # conversations come in the background, without waiting an hour
        for kind in ("comments", "conversations"):
            self.env["meta.import.job"]._meta_restart(assets, kind)
        return assets

    def _meta_inbox_team(self):
        """The team answering this account's conversations."""
        self.ensure_one()
        holder = self._meta_token_holder()
        team = self.inbox_team_id or holder.inbox_team_id
        if team:
            return team
        # sudo: crm.team - the default team of the company, whoever reads
        return (
            self.env["crm.team"]
            .sudo()
            .search(
                [("company_id", "in", (False, self.company_id.id))],
                order="sequence, id",
                limit=1,
            )
        )

    def action_import_conversations_again(self):
        self._meta_check_admin()
        self.env["meta.import.job"]._meta_restart(self, "conversations")
        return True
