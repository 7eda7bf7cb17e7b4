from odoo import api, fields, models
from odoo.exceptions import UserError


class MetaAudienceLookalike(models.Model):
    """A lookalike audience Meta builds from one of ours (docs/meta-facts.md
    §7.7): people like the seed's, in the chosen countries."""

    _name = "meta.audience.lookalike"
    _description = "Meta Lookalike Audience"
    _inherit = ["meta.admin.mixin", "meta.outbox.origin"]

    audience_id = fields.Many2one(
        "meta.audience", string="Seed Audience", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="audience_id.company_id", store=True)
    name = fields.Char(required=True)
    country_ids = fields.Many2many("res.country", string="Countries", required=True)
    ratio = fields.Integer(
        string="Size (%)",
        default=1,
        required=True,
        help="1 %: the most similar people of the countries; up to 20 %.",
    )
    meta_audience_ref = fields.Char(string="Meta Audience ID", readonly=True)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("created", "Created at Meta"),
            ("deleted", "Deleted at Meta"),
            ("error", "Error"),
        ],
        default="queued",
        readonly=True,
    )
    error = fields.Text(readonly=True)

    @api.constrains("ratio")
    def _check_ratio(self):
        if any(not 1 <= lookalike.ratio <= 20 for lookalike in self):
            raise UserError(self.env._("A lookalike is 1 % to 20 % of a country."))

    @api.model_create_multi
    def create(self, vals_list):
        self._meta_check_admin()
        lookalikes = super().create(vals_list)
        for lookalike in lookalikes:
            seed = lookalike.audience_id
            if not seed.meta_audience_ref:
                raise UserError(
                    self.env._("Sync the audience once before making lookalikes of it.")
                )
            self.env["meta.outbox"]._meta_enqueue(
                seed.ad_account_id,
                "create_lookalike",
                {
                    "ad_account_id": seed.ad_account_id.external_id,
                    "name": lookalike.name,
                    "origin_audience_id": seed.meta_audience_ref,
                    "countries": lookalike.country_ids.mapped("code"),
                    "ratio": lookalike.ratio / 100.0,
                },
                origin=lookalike,
            )
        return lookalikes

    def action_delete_at_meta(self):
        """Delete the lookalike at Meta (its ads stop reaching its people);
        it stays here, deleted, for the record."""
        self._meta_check_admin()
        for lookalike in self.filtered("meta_audience_ref"):
            lookalike._meta_enqueue_deletion()
        return self.audience_id.ad_account_id[:1].connection_id._meta_notification(
            self.env._("Deletion requested: Meta deletes the lookalike shortly.")
        )

    def _meta_enqueue_deletion(self):
        self.ensure_one()
        seed = self.audience_id
        self.env["meta.outbox"]._meta_enqueue(
            seed.ad_account_id,
            "delete_audience",
            {"audience_id": self.meta_audience_ref},
            origin=self,
        )

    def _meta_outbox_ordering_key(self, operation):
        if operation == "delete_audience":
            # in line with its seed's operations: deleted before the seed
            # when both are
            return self.audience_id._meta_outbox_ordering_key(operation)
        return None  # a creation waits for nothing

    @api.ondelete(at_uninstall=False)
    def _unlink_except_at_meta(self):
        # deleting only the Odoo side would leave the lookalike running
        if any(lookalike.meta_audience_ref for lookalike in self):
            raise UserError(
                self.env._(
                    "This lookalike still exists at Meta: use “Delete at Meta” first."
                )
            )

    def _meta_outbox_done(self, item, result):
        if item.operation == "delete_audience":
            self.write({"meta_audience_ref": False, "state": "deleted", "error": False})
        else:
            self.write(
                {"meta_audience_ref": result, "state": "created", "error": False}
            )
        self.env["meta.audience.log"]._meta_log(self.audience_id, item.operation, 0)

    def _meta_outbox_gave_up(self, item, error, reason):
        # a failed deletion leaves it at Meta: still created, with the reason
        state = "created" if item.operation == "delete_audience" else "error"
        self.write({"state": state, "error": str(reason)})
        self.env["meta.audience.log"]._meta_log(
            self.audience_id, item.operation, 0, error=reason
        )
