from odoo import fields, models, tools
from odoo.models import parse_read_group_spec
from odoo.tools import SQL

from ..graph.const import PLATFORMS

#: measure -> the percentile of the response time it shows in a group
_PERCENTILE_OF = {"response_median": 0.5, "response_p90": 0.9}


class MetaLeadReport(models.Model):
    """Speed to lead and conversion of the leads Meta's forms brought.

    One row per lead from a Meta form (Meta's test leads left out), read in
    Odoo's graph and pivot views. A lead nobody answered yet has no response
    time (NULL, not 0): it is left out of the median and averages and counts
    as not answered within 5 minutes.
    """

    _name = "meta.lead.report"
    _description = "Meta Lead Ads Analysis"
    _auto = False
    _rec_name = "lead_id"
    _order = "submitted_at desc"

    lead_id = fields.Many2one("crm.lead", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    form_id = fields.Many2one("meta.lead.form", string="Lead Form", readonly=True)
    page_id = fields.Many2one("meta.asset", string="Facebook Page", readonly=True)
    platform = fields.Selection(list(PLATFORMS), readonly=True)
    campaign_name = fields.Char(string="Meta Campaign", readonly=True)
    ad_name = fields.Char(string="Ad", readonly=True)
    is_organic = fields.Boolean(string="Organic", readonly=True)
    submitted_at = fields.Datetime(string="Submitted on Meta", readonly=True)
    responded_at = fields.Datetime(string="First Response", readonly=True)
    active = fields.Boolean(readonly=True)
    is_answered = fields.Boolean(string="Answered", readonly=True)
    is_won = fields.Boolean(string="Won", readonly=True)
    response_minutes = fields.Float(
        string="Minutes to First Response (Average)",
        readonly=True,
        aggregator="avg",
    )
    response_median = fields.Float(
        string="Minutes to First Response (Median)",
        readonly=True,
        aggregator="avg",
        help="Half of the answered leads were answered faster than this.",
    )
    response_p90 = fields.Float(
        string="Minutes to First Response (90th Percentile)",
        readonly=True,
        aggregator="avg",
        help="Nine answered leads in ten were answered faster than this.",
    )
    answered_5min_rate = fields.Float(
        string="Answered within 5 Minutes (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the leads answered within 5 minutes of the submission; "
        "a lead not answered yet counts as not answered in time.",
    )
    won_rate = fields.Float(string="Won (%)", readonly=True, aggregator="avg")
    lead_count = fields.Integer(string="Leads", readonly=True, aggregator="sum")
    seconds_to_lead = fields.Float(
        string="Seconds to Lead",
        readonly=True,
        aggregator="avg",
        help="From the submission on Meta to the lead in Odoo.",
    )

    def _select(self):
        # NULL for a lead nobody answered (PostgreSQL's GREATEST would turn
        # it into 0: an instant answer)
        minutes = SQL(
            "CASE WHEN l.meta_first_response_at IS NOT NULL THEN GREATEST("
            "EXTRACT(EPOCH FROM (l.meta_first_response_at - l.meta_submitted_at))"
            " / 60.0, 0) END"
        )
        return SQL(
            """
            SELECT l.id AS id,
                   l.id AS lead_id,
                   l.company_id,
                   l.team_id,
                   l.user_id,
                   l.stage_id,
                   l.meta_form_id AS form_id,
                   l.meta_page_id AS page_id,
                   l.meta_platform AS platform,
                   l.meta_campaign_name AS campaign_name,
                   l.meta_ad_name AS ad_name,
                   l.meta_is_organic AS is_organic,
                   l.meta_submitted_at AS submitted_at,
                   l.meta_first_response_at AS responded_at,
                   l.active,
                   l.meta_first_response_at IS NOT NULL AS is_answered,
                   COALESCE(s.is_won, FALSE) AND l.active AS is_won,
                   %(minutes)s AS response_minutes,
                   %(minutes)s AS response_median,
                   %(minutes)s AS response_p90,
                   CASE WHEN %(minutes)s <= 5 THEN 100.0 ELSE 0.0 END
                       AS answered_5min_rate,
                   CASE WHEN COALESCE(s.is_won, FALSE) AND l.active
                       THEN 100.0 ELSE 0.0 END AS won_rate,
                   1 AS lead_count,
                   GREATEST(EXTRACT(EPOCH FROM
                       (l.create_date - l.meta_submitted_at)), 0) AS seconds_to_lead
              FROM crm_lead l
         LEFT JOIN crm_stage s ON s.id = l.stage_id
             WHERE l.meta_submitted_at IS NOT NULL
               AND l.meta_form_id IS NOT NULL
               AND NOT COALESCE(l.meta_is_test, FALSE)
            """,
            minutes=minutes,
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._select(),
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        """The median and the 90th percentile are percentiles of the group,
        whatever aggregate the view asks for (graph and pivot ask for the
        field's own, ``avg``): PostgreSQL's ``percentile_cont`` skips the
        unanswered leads (NULL) as the average does."""
        fname, __, func = parse_read_group_spec(aggregate_spec)
        if fname in _PERCENTILE_OF and func:
            # super() checks the field and the user's access to it
            super()._read_group_select(aggregate_spec, query)
            value = self._field_to_sql(self._table, fname, query)
            return SQL(
                "PERCENTILE_CONT(%s) WITHIN GROUP (ORDER BY %s)",
                _PERCENTILE_OF[fname],
                value,
            )
        return super()._read_group_select(aggregate_spec, query)
