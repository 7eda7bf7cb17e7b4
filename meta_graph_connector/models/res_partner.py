import hashlib

from odoo import api, fields, models
from odoo.tools import SQL

from .. import series
from .meta_consent import CONSENT_PURPOSES
from .meta_queue_mixin import MetaContention


def _person_lock_id(identity):
    """A stable signed 64-bit number of an identity key, for PostgreSQL's
    advisory locks (the same in every worker and every Python run, which
    ``hash()`` is not); namespaced so as not to meet another addon's locks."""
    digest = hashlib.blake2b(
        f"meta_graph_connector.person:{identity}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


class ResPartner(models.Model):
    # The same two lines as core's sms module: they give partners the stored,
    # indexed ``phone_sanitized`` (E.164) that crm.lead already has, so a Meta
    # lead is matched to its customer by phone whatever spelling either side
    # was typed in. Harmless when sms is installed too.
    _name = "res.partner"
    _inherit = ["mail.thread.phone", "res.partner"]

    meta_consent_ids = fields.One2many(
        "meta.consent",
        "partner_id",
        string="Meta Consent History",
        groups="meta_graph_connector.group_meta_admin",
    )
    meta_audience_consent = fields.Selection(
        [("granted", "Granted"), ("withdrawn", "Withdrawn"), ("unknown", "Unknown")],
        string="Consent: Meta Advertising Audiences",
        compute="_compute_meta_consent",
        groups="meta_graph_connector.group_meta_admin",
    )
    meta_measurement_consent = fields.Selection(
        [("granted", "Granted"), ("withdrawn", "Withdrawn"), ("unknown", "Unknown")],
        string="Consent: Meta Conversion Measurement",
        compute="_compute_meta_consent",
        groups="meta_graph_connector.group_meta_admin",
    )

    @api.ondelete(at_uninstall=False)
    def _meta_suppress_erased(self):
        """A person erased (deleted, also through the privacy lookup) is
        never sent to Meta again, should they come back as a new contact.
        Merging duplicates deletes contacts too, but the person stays."""
        if not self.env.context.get("meta_partner_merge"):
            self.env["meta.suppression"]._meta_suppress(self, "erasure")
            self.env["meta.audience"]._meta_remove_partners(self)

    @api.depends("meta_consent_ids")
    def _compute_meta_consent(self):
        states = self._meta_consent_states()
        for partner in self:
            partner.meta_audience_consent = states[partner.id]["audiences"]
            partner.meta_measurement_consent = states[partner.id]["measurement"]

    def _meta_consent_states(self):
        """partner id -> purpose -> granted / withdrawn / unknown (the latest
        decision; none is unknown, which counts as no)."""
        states = {
            partner.id: {purpose: "unknown" for purpose, _label in CONSENT_PURPOSES}
            for partner in self
        }
        # sudo: meta.consent - the evidence is for Meta administrators; the
        # state it gives is what every flow (audiences, conversions) needs.
        decisions = (
            self.env["meta.consent"]
            .sudo()
            .search([("partner_id", "in", self.ids)], order="decided_at, id")
        )
        for decision in decisions:
            states[decision.partner_id.id][decision.purpose] = decision.state
        return states

    def _meta_record_consent(self, purpose, granted, source, **evidence):
        """Append a decision (never overwrite one); a withdrawal also puts
        the person on the suppression list when they objected."""
        # sudo: meta.consent - recorded by the flows that collect it (a lead
        # form, a user of the partner form); only administrators read it.
        decisions = (
            self.env["meta.consent"]
            .sudo()
            .create(
                [
                    {
                        "partner_id": partner.id,
                        "purpose": purpose,
                        "state": "granted" if granted else "withdrawn",
                        "source": source,
                        "notice_version": evidence.get("notice_version"),
                        "evidence": evidence.get("evidence"),
                        "recorded_by_id": self.env.user.id,
                        # the company the decision was given to: the lead
                        # form's, else the partner's, else the current one
                        "company_id": (
                            evidence.get("company")
                            or partner.company_id
                            or self.env.company
                        ).id,
                        # when the person decided (a lead form's submission)
                        "decided_at": evidence.get("decided_at")
                        or fields.Datetime.now(),
                    }
                    for partner in self
                ]
            )
        )
        if not granted and evidence.get("objection"):
            self.env["meta.suppression"]._meta_suppress(self, "objection")
        if not granted and purpose == "audiences":
            # withdrawn: out of every audience at Meta now, not at the next sync
            self.env["meta.audience"]._meta_remove_partners(self)
        return decisions

    @api.model
    def _meta_find_or_create_people(self, people, find, create=None):
        """The partner of each person, found or else created: one partner per
        person even when several workers meet the same new person at the same
        instant (two lanes, two submissions of one person; a comment and a
        message of a newcomer). The one way leads, comments and conversations
        make people.

        Finding and creating are serialised per identity: a transaction-level
        advisory lock on each normalised identity key of the people not found
        (every key of a person, in sorted order, so that two workers never
        wait on each other), then a search again, then the creation, under the
        locks until the transaction ends. The search again is made in a new
        transaction: this one reads a snapshot (REPEATABLE READ) that may
        predate the commit of whoever held the lock before.

        :param dict people: a reference of each person (a Meta lead id, a
            scoped id) -> their normalised identity keys (``email:<e-mail
            normalized>``, ``phone:<E.164>``, ``meta:<asset id>:<scoped id>``).
        :param find: ``find(env, refs) -> {ref: record}``, who is known
            already, in that environment (its cursor).
        :param create: ``create(refs) -> {ref: record}``, making those not
            found; None when the caller makes them itself later in this
            transaction (crm makes a lead's customer from the lead), the locks
            holding until it ends.
        :return: ``{ref: record}`` of those found, and of those created.
        :raise MetaContention: another worker made one of them after this
            transaction began; the work is to run again in a new transaction,
            which finds them.
        """
        found = find(self.env, list(people))
        missing = [ref for ref in people if ref not in found]
        if not missing:
            return found
        keys = {key for ref in missing for key in people[ref] if key}
        for lock_id in sorted({_person_lock_id(key) for key in keys}):
            self.env.execute_query(SQL("SELECT pg_advisory_xact_lock(%s)", lock_id))
        with self.env.registry.cursor() as cr:
            # a new snapshot: it sees what a former holder of the locks made.
            # The registry at hand, not looked up by name: that waits on the
            # lock of a thread loading the registry (Odoo's tests run so).
            cr.transaction = series.Transaction(self.env.registry)
            made_meanwhile = find(self.env(cr=cr), missing)
        if made_meanwhile:
            raise MetaContention(
                "This person was recorded by another worker at the same "
                "moment: retried."
            )
        if create is None:
            return found
        return {**found, **create(missing)}

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
