from odoo import api, fields, models

from .. import series
from ..graph import audience

#: The partner fields Meta could match a person on, with their key kind: a
#: mobile (on a series that has one) is a phone as well (rows send the
#: phone, else the mobile).
MATCH_FIELDS = (
    ("EMAIL", "email"),
    *(("PHONE", field) for field in series.PARTNER_PHONE_FIELDS),
)


@series.sql_constraints
class MetaSuppression(models.Model):
    """People who must never be sent to Meta again, by hash only.

    A person who objected or was erased is kept here as the SHA-256 of their
    normalised e-mail and phone (the values Meta matches on, docs/meta-facts.md
    §7.5), nothing readable: should they come back as a new contact with the
    same e-mail or phone, no audience uploads them.

    Each entry belongs to the company the person objected to or was erased
    by (its Privacy Centre counts it); the membership test spans every
    company: a person suppressed by one is sent to Meta by none.
    """

    _name = "meta.suppression"
    _description = "Meta Suppression List"
    _order = "id desc"
    _rec_name = "key"

    key = fields.Char(string="Hash", required=True, readonly=True, index=True)
    kind = fields.Selection(
        [("EMAIL", "E-mail"), ("PHONE", "Phone")], required=True, readonly=True
    )
    reason = fields.Selection(
        [
            ("objection", "Objection"),
            ("erasure", "Erasure"),
            ("withdrawal", "Withdrawal"),
        ],
        required=True,
        readonly=True,
    )
    suppressed_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )

    _sql_constraints = [
        (
            "key_unique",
            "unique(company_id, key)",
            "This person is already suppressed.",
        ),
    ]

    @api.model
    def _meta_keys_of(self, partners):
        """(kind, hash) of what Meta could match each partner on."""
        keys = set()
        for partner in partners:
            country = partner.country_id.code or "TR"
            for kind, field in MATCH_FIELDS:
                keys |= self._meta_keys_of_values(kind, partner[field], country)
        return keys

    @api.model
    def _meta_keys_of_values(self, kind, value, country=None):
        """(kind, hash) of one raw e-mail or phone, when Meta could match it."""
        hashed = audience.hash_value(
            kind, audience.normalize(kind, value or "", country=country or "TR")
        )
        return {(kind, hashed)} if hashed else set()

    @api.model
    def _meta_suppress(self, partners, reason):
        """Suppress ``partners`` for good (idempotent: a known hash stays),
        in the partner's company, else the current one."""
        # sudo: meta.suppression - the list is written by the privacy flows
        # of any user (an erasure, an objection); nobody reads a person in it.
        Suppression = self.sudo()
        for company, people in partners.grouped(
            lambda p: p.company_id or self.env.company
        ).items():
            keys = self._meta_keys_of(people)
            known = set(
                Suppression.search(
                    [
                        ("company_id", "=", company.id),
                        ("key", "in", [k for _kind, k in keys]),
                    ]
                ).mapped("key")
            )
            Suppression.create(
                [
                    {
                        "key": key,
                        "kind": kind,
                        "reason": reason,
                        "company_id": company.id,
                    }
                    for kind, key in sorted(keys)
                    if key not in known
                ]
            )

    @api.model
    def _meta_suppressed_keys(self, keys):
        """The hashes among ``keys`` that are suppressed."""
        keys = [key for key in keys if key]
        if not keys:
            return set()
        # sudo: meta.suppression - a membership test, no person is read
        return set(self.sudo().search([("key", "in", keys)]).mapped("key"))
