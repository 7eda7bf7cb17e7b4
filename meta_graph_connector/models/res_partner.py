from odoo import api, models


class ResPartner(models.Model):
    # The same two lines as core's sms module: they give partners the stored,
    # indexed ``phone_sanitized`` (E.164) that crm.lead already has, so a Meta
    # lead is matched to its customer by phone whatever spelling either side
    # was typed in. Harmless when sms is installed too.
    _name = "res.partner"
    _inherit = ["mail.thread.phone", "res.partner"]

    @api.model
    def _meta_find_customers(self, keys, company):
        """Existing customers of ``company`` for Meta leads: by e-mail, then
        by phone.

        :param dict keys: lead id -> (e-mail key, phone key), built by
            ``meta.lead.mapper._meta_match_keys`` with the functions that
            build the stored, indexed columns compared here, so one query
            each serves a whole batch.
        :return: lead id -> partner, for the leads matched.
        """
        company_domain = [("company_id", "in", [False, company.id])]
        emails = {email for email, _phone in keys.values() if email}
        phones = {phone for _email, phone in keys.values() if phone}
        by_email, by_phone = {}, {}
        if emails:
            for partner in self.search(
                [("email_normalized", "in", list(emails)), *company_domain], order="id"
            ):
                by_email.setdefault(partner.email_normalized, partner)
        if phones:
            for partner in self.search(
                [("phone_sanitized", "in", list(phones)), *company_domain], order="id"
            ):
                by_phone.setdefault(partner.phone_sanitized, partner)
        matches = {}
        for lead_id, (email, phone) in keys.items():
            partner = by_email.get(email) or by_phone.get(phone)
            if partner:
                matches[lead_id] = partner
        return matches
