import base64
import csv
import io

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools.i18n import format_list

from . import meta_privacy_texts as texts

#: The features whose purposes appear in the notices, in their order.
NOTICE_FEATURES = (
    "lead_ads",
    "page_comments",
    "instagram_comments",
    "messenger",
    "instagram_messages",
    "audiences",
    "conversions",
)


class MetaPrivacyCenter(models.TransientModel):
    """KVKK / GDPR at a glance, for the Meta administrators: what the addon
    keeps about people and for how long, what leaves Odoo for Meta (and
    whether hashed), consents, erasure requests, and the texts the company
    publishes, filled with its name and the purposes of the features it
    uses; plus the processing record for VERBİS / GDPR Art. 30."""

    _name = "meta.privacy.center"
    _description = "Meta Privacy Centre"
    _inherit = ["meta.admin.mixin"]

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    inventory_html = fields.Html(
        string="What Odoo Keeps", compute="_compute_overview", sanitize=False
    )
    transfers_html = fields.Html(
        string="What Leaves Odoo for Meta", compute="_compute_overview", sanitize=False
    )
    consent_html = fields.Html(
        string="Consents and Erasure", compute="_compute_overview", sanitize=False
    )
    notice_lead_ads_tr = fields.Html(
        string="KVKK Notice: Lead Ads (Turkish)",
        compute="_compute_notices",
        sanitize=False,
    )
    notice_lead_ads_en = fields.Html(
        string="KVKK Notice: Lead Ads (English)",
        compute="_compute_notices",
        sanitize=False,
    )
    notice_audiences_tr = fields.Html(
        string="KVKK Notice: Custom Audiences (Turkish)",
        compute="_compute_notices",
        sanitize=False,
    )
    notice_audiences_en = fields.Html(
        string="KVKK Notice: Custom Audiences (English)",
        compute="_compute_notices",
        sanitize=False,
    )
    consent_transfer_tr = fields.Html(
        string="Explicit Consent to Transfer Abroad (Turkish)",
        compute="_compute_notices",
        sanitize=False,
    )
    consent_transfer_en = fields.Html(
        string="Explicit Consent to Transfer Abroad (English)",
        compute="_compute_notices",
        sanitize=False,
    )
    gdpr_notice_en = fields.Html(
        string="GDPR Notice (English)", compute="_compute_notices", sanitize=False
    )
    gdpr_notice_tr = fields.Html(
        string="GDPR Notice (Turkish)", compute="_compute_notices", sanitize=False
    )
    missing_details = fields.Char(
        compute="_compute_notices",
        help="What the texts need from the company and it lacks.",
    )
    record_file = fields.Binary(string="Processing Record", readonly=True)
    record_filename = fields.Char(readonly=True)

    @api.depends("company_id")
    def _compute_display_name(self):
        for center in self:
            center.display_name = self.env._(
                "Privacy Centre: %(company)s", company=center.company_id.name
            )

    @api.model
    def action_open(self):
        # the screen and its texts are for the Meta administrators only; the
        # centre is of the current company, and the record rules keep it so
        self._meta_check_admin()
        center = self.create({})
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": center.id,
            "view_mode": "form",
            "target": "current",
            "name": self.env._("Privacy Centre"),
        }

    # ------------------------------------------------------------ features

    def _meta_features(self):
        """The features the company uses: those of the Meta App's App Review
        list, and those its data shows in use whatever the list says (an
        Instagram account connected has its comments and messages
        processed): a notice that leaves out what is done misleads."""
        # sudo: meta.app - which features are used; no secret is read
        app_sudo = self.env["meta.app"].sudo()._meta_get()
        in_use = self._meta_features_in_use()
        return [f for f in NOTICE_FEATURES if app_sudo[f"review_{f}"] or f in in_use]

    def _meta_features_in_use(self):
        """The features the company's connections and records show in use."""
        company = self.company_id
        count = self._meta_count
        instagram = count(
            "meta.asset",
            [("company_id", "=", company.id), ("asset_type", "=", "instagram")],
        )
        evidence = {
            "lead_ads": count("meta.lead", [("company_id", "=", company.id)]),
            "page_comments": count(
                "meta.social.comment",
                [("company_id", "=", company.id), ("platform", "=", "facebook")],
            ),
            "instagram_comments": instagram
            or count(
                "meta.social.comment",
                [("company_id", "=", company.id), ("platform", "=", "instagram")],
            ),
            "messenger": count(
                "discuss.channel",
                [
                    ("channel_type", "=", "meta"),
                    ("meta_company_id", "=", company.id),
                    ("meta_platform", "=", "messenger"),
                ],
            ),
            "instagram_messages": instagram
            or count(
                "discuss.channel",
                [
                    ("channel_type", "=", "meta"),
                    ("meta_company_id", "=", company.id),
                    ("meta_platform", "=", "instagram"),
                ],
            ),
            "audiences": count("meta.audience", [("company_id", "=", company.id)]),
            "conversions": count(
                "meta.conversion.event", [("company_id", "=", company.id)]
            ),
        }
        return {feature for feature, used in evidence.items() if used}

    # ------------------------------------------------------------ overview

    def _meta_inventory(self):
        """(what, where from, kept for, how many) per kind of personal data."""
        company = self.company_id
        retention_days = company.meta_inbox_retention_days
        count = self._meta_count
        return [
            (
                self.env._("Lead Ads submissions (answers, ad)"),
                self.env._("Meta Lead Ads forms"),
                self.env._("Until deleted with the lead"),
                count("meta.lead", [("company_id", "=", company.id)]),
            ),
            (
                self.env._("Comments and mentions"),
                self.env._("Facebook Page and Instagram comments"),
                self.env._("Until deleted with the customer"),
                count("meta.social.comment", [("company_id", "=", company.id)]),
            ),
            (
                self.env._("Messenger and Instagram conversations"),
                self.env._("Meta's messaging webhooks"),
                self.env._("Content erased after %(days)s days", days=retention_days)
                if retention_days
                else self.env._(
                    "Until deleted with the customer (no retention period set)"
                ),
                count(
                    "discuss.channel",
                    [
                        ("channel_type", "=", "meta"),
                        ("meta_company_id", "=", company.id),
                    ],
                ),
            ),
            (
                self.env._("Meta contacts (scoped ids, names)"),
                self.env._("Comments and conversations"),
                self.env._("Until deleted with the customer"),
                count("meta.social.contact", [("company_id", "=", company.id)]),
            ),
            (
                self.env._("Webhook events (raw deliveries)"),
                self.env._("Meta's webhooks"),
                self.env._("Processed ones: 30 days (technical log)"),
                count("meta.webhook.event", [("company_id", "=", company.id)]),
            ),
            (
                self.env._("Consent decisions (evidence)"),
                self.env._("Forms, portal, salespeople"),
                self.env._("Kept as evidence"),
                count("meta.consent", [("company_id", "=", company.id)]),
            ),
        ]

    def _meta_transfers(self):
        """(what, to whom, hashed?, how many) of what leaves Odoo for Meta."""
        company = self.company_id
        count = self._meta_count
        return [
            (
                self.env._("Custom Audiences members (e-mail, phone, name, country)"),
                self.env._("Meta Platforms Ireland Limited"),
                self.env._("Hashed (SHA-256), only with audiences consent"),
                count("meta.audience.member", [("company_id", "=", company.id)]),
            ),
            (
                self.env._(
                    "Conversion events of leads (stage, lead id, e-mail, phone)"
                ),
                self.env._("Meta Platforms Ireland Limited"),
                self.env._(
                    "Identifiers hashed (SHA-256), only with measurement consent"
                ),
                count("meta.conversion.event", [("company_id", "=", company.id)]),
            ),
            (
                self.env._("Replies to comments and messages"),
                self.env._("Meta Platforms Ireland Limited"),
                self.env._("Plain text: they are read by the customer on Meta"),
                count("meta.outbox", [("company_id", "=", company.id)]),
            ),
        ]

    def _meta_count(self, model, domain):
        # sudo: counting the centre's company's records for the overview,
        # whatever the administrator's own rules (crm's "own leads" ones);
        # who may see this company's centre is checked first.
        return self.env[model].sudo().search_count(domain)

    @api.depends("company_id")
    def _compute_overview(self):
        # a centre being edited (onchange) has no record rule yet to stop it
        # showing another company's counts: check its company here too
        self._meta_check_admin("read")
        for center in self:
            center.inventory_html = center._meta_table(
                (
                    self.env._("Data"),
                    self.env._("Where from"),
                    self.env._("Kept"),
                    self.env._("Records"),
                ),
                center._meta_inventory(),
            )
            center.transfers_html = center._meta_table(
                (
                    self.env._("Data"),
                    self.env._("Recipient"),
                    self.env._("How"),
                    self.env._("Records"),
                ),
                center._meta_transfers(),
            )
            center.consent_html = center._meta_consent_overview()

    def _meta_consent_overview(self):
        Consent = self.env["meta.consent"].sudo()
        purposes = dict(Consent._fields["purpose"]._description_selection(self.env))
        states = dict(Consent._fields["state"]._description_selection(self.env))
        rows = [
            (purposes[purpose], states[state], count)
            for (purpose, state), count in sorted(
                {
                    (purpose, state): count
                    for purpose, state, count in Consent._read_group(
                        [("company_id", "=", self.company_id.id)],
                        ["purpose", "state"],
                        ["__count"],
                    )
                }.items()
            )
        ]
        company_domain = [("company_id", "=", self.company_id.id)]
        # sudo: meta.deletion.request, meta.suppression - counts of the
        # centre's company, checked by the caller
        Request = self.env["meta.deletion.request"].sudo()
        request_states = dict(Request._fields["state"]._description_selection(self.env))
        rows += [
            (self.env._("Meta data deletion requests"), request_states[state], count)
            for state, count in Request._read_group(
                company_domain, ["state"], ["__count"]
            )
        ]
        Suppression = self.env["meta.suppression"].sudo()
        reasons = dict(Suppression._fields["reason"]._description_selection(self.env))
        rows += [
            (
                self.env._("Suppression list (never sent to Meta again)"),
                reasons.get(reason, reason),
                count,
            )
            for reason, count in Suppression._read_group(
                company_domain, ["reason"], ["__count"]
            )
        ] or [(self.env._("Suppression list (never sent to Meta again)"), "", 0)]
        return self._meta_table(
            (self.env._("What"), self.env._("State"), self.env._("Records")), rows
        )

    @staticmethod
    def _meta_table(headers, rows):
        head = Markup("").join(Markup("<th>%s</th>") % h for h in headers)
        body = Markup("").join(
            Markup("<tr>%s</tr>")
            % Markup("").join(Markup("<td>%s</td>") % cell for cell in row)
            for row in rows
        )
        return Markup(
            '<table class="table table-sm"><thead><tr>%s</tr></thead>'
            "<tbody>%s</tbody></table>"
        ) % (head, body)

    # ------------------------------------------------------------ notices

    def _meta_address(self):
        company = self.company_id
        return ", ".join(
            part
            for part in (company.street, company.city, company.country_id.name)
            if part
        )

    def _meta_missing_details(self):
        """What the texts name and the company lacks, in the user's words."""
        labels = []
        if not self._meta_address():
            labels.append(self.env._("address"))
        if not self.company_id.email:
            labels.append(self.env._("e-mail"))
        if not labels:
            return False
        return self.env._(
            "The texts below lack the company's %(details)s: add them to the "
            "company (Settings > Companies) before publishing the texts; "
            "until then the texts say what is missing.",
            details=format_list(self.env, labels),
        )

    @staticmethod
    def _meta_gap(detail, lang):
        return (
            Markup('<mark class="text-danger">%s</mark>') % texts.MISSING[detail][lang]
        )

    def _meta_notice_values(self, lang, features):
        company = self.company_id
        address = self._meta_address()
        purposes = [texts.PURPOSES[f][lang] for f in features]
        days = company.meta_inbox_retention_days
        retention = (
            texts.RETENTION[lang].format(days=days)
            if days
            else texts.RETENTION_FOREVER[lang]
        )
        return {
            "company": company.name,
            # never a "-" that passes for a detail: the gap shows in the text
            "address": address or self._meta_gap("address", lang),
            "email": company.email or self._meta_gap("email", lang),
            "purposes": Markup("").join(Markup("<li>%s</li>") % p for p in purposes),
            "purpose_list": "; ".join(purposes),
            "retention": retention,
        }

    def _meta_render(self, template, lang, features, context_feature=None):
        if not features:
            return False
        values = self._meta_notice_values(lang, features)
        context = texts.CONTEXTS[context_feature][lang] if context_feature else ""
        return Markup(template).format(
            company=values["company"],
            address=values["address"],
            email=values["email"],
            purposes=values["purposes"]
            if "<ul>{purposes}</ul>" in template
            else values["purpose_list"],
            retention=values["retention"],
            context=context,
        )

    @api.depends("company_id")
    def _compute_notices(self):
        self._meta_check_admin("read")  # see _compute_overview
        for center in self:
            center.missing_details = center._meta_missing_details()
            features = center._meta_features()
            lead_side = [f for f in features if f not in ("audiences", "conversions")]
            ad_side = [f for f in features if f in ("audiences", "conversions")]
            for lang, suffix, kvkk in (
                ("tr_TR", "tr", texts.KVKK_NOTICE_TR),
                ("en_US", "en", texts.KVKK_NOTICE_EN),
            ):
                center[f"notice_lead_ads_{suffix}"] = center._meta_render(
                    kvkk, lang, lead_side, "lead_ads"
                )
                center[f"notice_audiences_{suffix}"] = center._meta_render(
                    kvkk, lang, ad_side, "audiences"
                )
            center.consent_transfer_tr = center._meta_render(
                texts.CONSENT_TRANSFER_TR, "tr_TR", features
            )
            center.consent_transfer_en = center._meta_render(
                texts.CONSENT_TRANSFER_EN, "en_US", features
            )
            center.gdpr_notice_en = center._meta_render(
                texts.GDPR_NOTICE_EN, "en_US", features
            )
            center.gdpr_notice_tr = center._meta_render(
                texts.GDPR_NOTICE_TR, "tr_TR", features
            )

    # ------------------------------------------------------------ record

    def action_export_processing_record(self):
        """The data-processing record (what, why, where, how long) as a CSV
        the company copies into VERBİS or its GDPR Art. 30 register."""
        self.ensure_one()
        self._meta_check_admin()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                self.env._("Processing"),
                self.env._("Purpose"),
                self.env._("Data subjects"),
                self.env._("Data categories"),
                self.env._("Recipients"),
                self.env._("Transfer abroad"),
                self.env._("Retention"),
                self.env._("Safeguards"),
            ]
        )
        lang = self.env.lang if self.env.lang in ("tr_TR", "en_US") else "en_US"
        values = self._meta_notice_values(lang, [])
        subjects = self.env._("Prospects and customers")
        recipient = self.env._("Meta Platforms Ireland Limited")
        for feature in self._meta_features():
            transfer = feature in ("audiences", "conversions")
            writer.writerow(
                [
                    dict(self._meta_feature_labels())[feature],
                    texts.PURPOSES[feature][lang],
                    subjects,
                    self.env._("Identity, contact, message and advertising data"),
                    recipient if transfer else self.env._("None (stays in Odoo)"),
                    self.env._("Yes, with explicit consent")
                    if transfer
                    else self.env._("No"),
                    values["retention"],
                    self.env._("SHA-256 hashing, consent check, access rights")
                    if transfer
                    else self.env._("Access rights, record rules"),
                ]
            )
        self.write(
            {
                "record_file": base64.b64encode(buffer.getvalue().encode("utf-8-sig")),
                "record_filename": "meta_processing_record.csv",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/record_file/"
            "meta_processing_record.csv?download=true",
            "target": "self",
        }

    def _meta_feature_labels(self):
        app = self.env["meta.app"]
        return [
            (f, app._fields[f"review_{f}"].get_description(self.env)["string"])
            for f in NOTICE_FEATURES
        ]
