from odoo import fields, models

from .. import series


@series.sql_constraints
class MetaAudienceIdentifier(models.Model):
    """An identifier a Custom Audience can send for a person (a key of
    Meta's multi-key customer file, docs/meta-facts.md §7), named for the
    administrator who chooses them: "E-mail", not ``EMAIL``."""

    _name = "meta.audience.identifier"
    _description = "Meta Audience Identifier"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True, readonly=True, help="The key's name in Meta's customer file."
    )
    sequence = fields.Integer(
        default=10, readonly=True, help="The key's place in the rows sent."
    )
    description = fields.Char(translate=True, readonly=True)

    _sql_constraints = [
        ("code_unique", "unique(code)", "An identifier is listed once."),
    ]
