from odoo import api, fields, models

from .. import series
from .meta_consent import CONSENT_PURPOSES


@series.sql_constraints
class MetaLeadFormConsent(models.Model):
    """A consent checkbox of a lead form and the purpose it stands for.

    Meta sends each optional checkbox's answer with the lead
    (``custom_disclaimer_responses``, docs/meta-facts.md §5.1). The checkboxes
    are listed here as leads bring them; once an administrator says which
    purpose a checkbox means, each lead's answer becomes a consent decision
    of its customer (ticked: granted; left empty: not given).
    """

    _name = "meta.lead.form.consent"
    _description = "Meta Lead Form Consent Checkbox"
    _order = "form_id, id"
    _rec_name = "label"

    form_id = fields.Many2one(
        "meta.lead.form", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="form_id.company_id", store=True)
    checkbox_key = fields.Char(required=True, readonly=True)
    label = fields.Char(string="Checkbox Text", readonly=True)
    purpose = fields.Selection(
        CONSENT_PURPOSES,
        help="What ticking this checkbox consents to. Empty: the answer is "
        "kept on the lead but records no consent.",
    )
    notice_version = fields.Char(
        help="The version of the privacy notice the form links to."
    )

    _sql_constraints = [
        (
            "checkbox_unique",
            "unique(form_id, checkbox_key)",
            "A form lists each consent checkbox once.",
        ),
    ]

    @api.model
    def _meta_checkboxes_of(self, form, bindings):
        """The form's checkboxes by key, listing the new ones the leads bring."""
        # sudo: meta.lead.form.consent - listed by the lead intake (the cron
        # and the webhook's worker), mapped by Meta administrators
        Checkbox = self.sudo()
        known = {
            c.checkbox_key: c for c in Checkbox.search([("form_id", "=", form.id)])
        }
        new = {}
        for binding in bindings:
            for consent in binding.consents or ():
                key = consent.get("key")
                if key and key not in known and key not in new:
                    new[key] = consent.get("label") or key
        if new:
            created = Checkbox.create(
                [
                    {"form_id": form.id, "checkbox_key": key, "label": label}
                    for key, label in new.items()
                ]
            )
            known.update({c.checkbox_key: c for c in created})
        return known

    @api.model
    def _meta_record_consents(self, form, bindings):
        """Each lead's mapped checkboxes as consent decisions of its
        customer, dated when the person submitted the form."""
        checkboxes = self._meta_checkboxes_of(form, bindings)
        for binding in bindings:
            partner = binding.lead_id.partner_id
            if not partner or binding.lead_id.meta_is_test:
                continue
            for consent in binding.consents or ():
                checkbox = checkboxes.get(consent.get("key"))
                if not checkbox or not checkbox.purpose:
                    continue
                partner._meta_record_consent(
                    checkbox.purpose,
                    bool(consent.get("checked")),
                    "lead_form",
                    decided_at=binding.submitted_at,
                    company=form.company_id,
                    notice_version=checkbox.notice_version,
                    evidence=self.env._(
                        "“%(checkbox)s” %(answer)s on %(form)s (Meta lead %(lead)s)",
                        checkbox=checkbox.label,
                        answer=self.env._("ticked")
                        if consent.get("checked")
                        else self.env._("left empty"),
                        form=form.name,
                        lead=binding.leadgen_id,
                    ),
                )
