import functools
import logging
import time
import uuid
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

from .. import series
from ..graph import audience_api, errors
from ..graph.audience import (
    SCHEMA_KEYS,
    batches,
    fillable_keys,
    person_row,
    retired_row,
    row_digest,
    row_is_usable,
    sha256_hex,
)
from ..graph.errors import GraphError
from .meta_suppression import MATCH_FIELDS

_logger = logging.getLogger(__name__)

#: Identifiers sent for a person: fixed for an audience's life (Meta refuses
#: a schema type change, docs/meta-facts.md §7).
DEFAULT_SCHEMA = "EMAIL,PHONE,FN,LN,CT,COUNTRY,EXTERN_ID"
#: ``EXTERN_ID`` of a partner: Meta scopes it to the ad account, which
#: several databases may feed, so it names the database too (a digest of
#: its ``database.uuid``, which itself is never told to Meta). Before, it
#: was ``odoo-partner-<id>``: a member synced so keeps the EXTERN_ID it was
#: sent with until its next sync moves it to this one (the old one removed
#: first).
EXTERN_ID_FORMAT = "odoo-{database}-partner-{partner_id}"
#: Partners read (and rows built) at a time: never all of them in memory.
PARTNER_CHUNK = 1000
#: Consenting people up to whom the form's preview builds their rows (a few
#: tenths of a second) to tell how many can be sent; beyond, the last sync
#: tells it.
PREVIEW_ROWS = 5000
#: Rows per upload. Meta takes up to 10,000; a batch is the largest thing a
#: sync holds in memory (rows, their JSON, the request), so half of that
#: keeps the sync's memory the same from a small segment to a large one.
ROWS_PER_BATCH = 5000


class MetaAudience(models.Model):
    """A Custom Audience at Meta, fed from a segment of partners.

    Only people who consented to "Meta advertising audiences" and are not on
    the suppression list are ever sent. A sync sends what changed since the
    last one: rows of new or changed members, removals of those who left the
    segment, withdrew consent or were erased; each batch goes through the
    outbox and is written in the audit log when Meta answers.
    """

    _name = "meta.audience"
    _description = "Meta Custom Audience"
    _inherit = ["mail.thread", "meta.admin.mixin", "meta.outbox.origin"]
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    ad_account_id = fields.Many2one(
        "meta.asset",
        required=True,
        domain="[('asset_type', '=', 'ad_account'), ('company_id', '=', company_id)]",
    )
    segment = fields.Selection(
        [
            ("tags", "Partner tags"),
            ("domain", "Partners matching a filter"),
            ("pipeline", "Partners of leads in stages"),
        ],
        required=True,
        default="tags",
    )
    tag_ids = fields.Many2many("res.partner.category", string="Tags")
    partner_domain = fields.Char(string="Filter", default="[]")
    stage_ids = fields.Many2many("crm.stage", string="Stages")
    max_age_days = fields.Integer(
        string="Leads Not Older Than (Days)",
        help="Pipeline segment: only leads created in the last N days (0: any).",
    )
    schema = fields.Char(
        string="Identifier Keys",
        default=DEFAULT_SCHEMA,
        required=True,
        help="Meta's keys, in the order of the rows sent; fixed once the "
        "audience exists at Meta.",
    )
    identifier_ids = fields.Many2many(
        "meta.audience.identifier",
        string="Identifiers Sent",
        domain=lambda self: [("code", "in", sorted(self._meta_identifier_keys()))],
        compute="_compute_identifier_ids",
        inverse="_inverse_identifier_ids",
        help="What is sent of each person, hashed: fixed once the audience "
        "exists at Meta. Meta finds people by their e-mail or phone; the "
        "others help it match them.",
    )
    meta_audience_ref = fields.Char(
        string="Meta Audience ID", readonly=True, copy=False
    )
    state = fields.Selection(
        [("draft", "Not at Meta yet"), ("active", "Active"), ("error", "Error")],
        default="draft",
        readonly=True,
        tracking=True,
    )
    size_lower = fields.Integer(
        string="Size at Meta (from)",
        readonly=True,
        copy=False,
        help="Meta's coarse estimate of the people it matched.",
    )
    size_upper = fields.Integer(string="Size at Meta (to)", readonly=True, copy=False)
    meta_status = fields.Char(string="Status at Meta", readonly=True, copy=False)
    last_sync_at = fields.Datetime(readonly=True, copy=False)
    last_sync_adds = fields.Integer(
        string="Added or Updated at Last Sync", readonly=True, copy=False
    )
    last_sync_removes = fields.Integer(
        string="Removed at Last Sync", readonly=True, copy=False
    )
    # what went wrong, kept as a word (:data:`EXPLAINED_ERRORS`, refused,
    # failed) and put in words when read
    last_sync_error = fields.Char(readonly=True, copy=False)
    last_sync_error_detail = fields.Text(
        readonly=True, copy=False, help="Meta's own words, or why it failed."
    )
    last_sync_result = fields.Text(
        compute="_compute_last_sync_result",
        help="The last sync's outcome, in the reader's language.",
    )
    sync_number = fields.Integer(
        readonly=True, copy=False, help="Syncs so far; marks who each one saw."
    )
    member_ids = fields.One2many("meta.audience.member", "audience_id", readonly=True)
    member_count = fields.Integer(compute="_compute_member_count")
    batches_waiting = fields.Integer(
        compute="_compute_batches_waiting",
        help="Batches of this audience still on their way to Meta (the sync's "
        "progress): each leaves the queue once Meta confirmed it.",
    )
    log_ids = fields.One2many("meta.audience.log", "audience_id", readonly=True)
    lookalike_ids = fields.One2many(
        "meta.audience.lookalike", "audience_id", string="Lookalikes"
    )
    preview = fields.Char(
        compute="_compute_preview",
        help="Who the segment holds now, and who of them may and can be sent.",
    )

    @api.depends(
        "last_sync_at",
        "last_sync_adds",
        "last_sync_removes",
        "last_sync_error",
        "last_sync_error_detail",
    )
    @api.depends_context("lang")
    def _compute_last_sync_result(self):
        # written by the cron, read by people: rendered when read, in the
        # reader's language, from what the sync stored
        for audience in self:
            if audience.last_sync_error:
                audience.last_sync_result = audience_error_text(
                    self.env,
                    audience.last_sync_error,
                    audience.last_sync_error_detail,
                )
            elif audience.last_sync_at:
                # "1 to add or update": the numbers stand alone, which reads
                # well in every plural form (Turkish has no plural after one)
                audience.last_sync_result = self.env._(
                    "%(adds)s to add or update, %(removes)s to remove.",
                    adds=audience.last_sync_adds,
                    removes=audience.last_sync_removes,
                )
            else:
                audience.last_sync_result = False

    @api.depends("member_ids")
    def _compute_member_count(self):
        counts = dict(
            self.env["meta.audience.member"]._read_group(
                [("audience_id", "in", self.ids)], ["audience_id"], ["__count"]
            )
        )
        for audience in self:
            audience.member_count = counts.get(audience, 0)

    def _compute_batches_waiting(self):
        # sudo: meta.outbox - only the count of the audience's own items
        counts = dict(
            self.env["meta.outbox"]
            .sudo()
            ._read_group(
                [
                    ("origin_model", "=", self._name),
                    ("origin_id", "in", self.ids),
                    ("state", "in", ("pending", "failed", "parked")),
                ],
                ["origin_id"],
                ["__count"],
            )
        )
        for audience in self:
            audience.batches_waiting = counts.get(audience.id, 0)

    @api.depends(
        "segment", "tag_ids", "partner_domain", "stage_ids", "max_age_days", "schema"
    )
    def _compute_preview(self):
        Partner = self.env["res.partner"].with_context(active_test=True)
        for audience in self:
            if not audience.id:
                audience.preview = False
                continue
            domain = audience._meta_segment_domain()
            # counted by the database: the form opens at once, whatever the
            # size of the segment
            match = Partner.search_count(domain)
            consenting = Partner.search_count(
                [*domain, *audience._meta_consent_domain()]
            )
            if consenting > PREVIEW_ROWS:
                # the rows themselves are too many to build while the form
                # opens: what the last sync found stands in for them
                audience.preview = self.env._(
                    "%(match)s partners match, %(consent)s consent; %(members)s "
                    "had an identifier Meta can use and could be sent at the "
                    "last sync",
                    match=match,
                    consent=consenting,
                    members=audience.member_count,
                )
                continue
            usable = sum(1 for _row in audience._meta_desired_rows())
            audience.preview = self.env._(
                "%(match)s partners match, %(consent)s consent, %(usable)s have an "
                "identifier Meta can use and may be sent",
                match=match,
                consent=consenting,
                usable=usable,
            )

    @api.depends("schema")
    def _compute_identifier_ids(self):
        Identifier = self.env["meta.audience.identifier"]
        for audience in self:
            audience.identifier_ids = Identifier.search(
                [("code", "in", audience._meta_schema())]
            )

    def _inverse_identifier_ids(self):
        for audience in self:
            codes = audience.identifier_ids.sorted().mapped("code")
            # the same keys are the same schema, whatever order it was saved in
            if set(codes) != set(audience._meta_schema()):
                audience.schema = ",".join(codes)

    @api.constrains("schema")
    def _check_schema(self):
        for audience in self:
            schema = audience._meta_schema()
            unknown = set(schema) - set(SCHEMA_KEYS)
            if unknown:
                raise UserError(
                    self.env._(
                        "Meta knows no identifier %(keys)s.",
                        keys=", ".join(sorted(unknown)),
                    )
                )
            no_data = set(schema) - self._meta_identifier_keys()
            if no_data:
                raise UserError(
                    self.env._(
                        "Odoo has no data for %(keys)s: Meta would receive them empty.",
                        keys=", ".join(sorted(no_data)),
                    )
                )
            if not {"EMAIL", "PHONE"} & set(schema):
                raise UserError(
                    self.env._(
                        "Send at least the e-mail or the phone: Meta finds "
                        "nobody by names, places or references alone."
                    )
                )

    def write(self, vals):
        if "schema" in vals and any(a.meta_audience_ref for a in self):
            raise UserError(
                self.env._(
                    "Meta keeps the identifiers an audience was made with: "
                    "create a new audience to send others."
                )
            )
        return super().write(vals)

    # ------------------------------------------------------------ segment

    @api.model
    def _meta_identifier_keys(self):
        """The identifiers Odoo has data for (:meth:`_meta_person`): an
        administrator picks among these only. A module sending a field of
        its own (a gender, a birth date) extends :meth:`_meta_person`, and
        its key is offered."""
        # the keys it gives a person of whom nothing is known
        return fillable_keys(self._meta_person(defaultdict(str)))

    def _meta_consent_domain(self):
        """Partners who consented to Meta advertising audiences (their
        latest decision), as a domain term the database evaluates."""
        granted = self.env["meta.consent"]._meta_granted_partners("audiences")
        return [("id", "in", granted)]

    def _meta_schema(self):
        return [key.strip() for key in (self.schema or "").split(",") if key.strip()]

    def _meta_segment_domain(self):
        self.ensure_one()
        company = [("company_id", "in", [False, self.company_id.id])]
        if self.segment == "tags":
            return [("category_id", "in", self.tag_ids.ids), *company]
        if self.segment == "domain":
            return [*safe_eval(self.partner_domain or "[]"), *company]
        lead_domain = [
            ("stage_id", "in", self.stage_ids.ids),
            ("partner_id", "!=", False),
            ("company_id", "in", [False, self.company_id.id]),
        ]
        if self.max_age_days:
            since = fields.Datetime.subtract(
                fields.Datetime.now(), days=self.max_age_days
            )
            lead_domain.append(("create_date", ">=", since))
        # sudo: crm.lead - the segment is the partners of leads in those
        # stages, whoever owns them; only their ids are read
        leads = self.env["crm.lead"].sudo()._search(lead_domain)
        return [("id", "in", leads.subselect("partner_id")), *company]

    @api.model
    def _meta_person_columns(self):
        """The columns :meth:`_meta_person` reads, of ``partner`` (joined to
        its ``country`` and ``state``): a row is made of a handful of a
        partner's dozens of fields. Extend it with :meth:`_meta_person` to
        send an identifier of a field of your own (a gender, a birth date)."""
        phones = SQL(", ").join(
            SQL("partner.%s", SQL.identifier(field))
            for field in series.PARTNER_PHONE_FIELDS
        )
        return SQL(
            "partner.id, partner.name, partner.email, %s, partner.city, "
            "partner.zip, country.code AS country_code, state.code AS state_code, "
            "state.name AS state_name",
            phones,
        )

    def _meta_person(self, values):
        """The raw identifiers of a partner, for the customer file, from its
        :meth:`_meta_person_columns`."""
        first, _sep, last = (values["name"] or "").strip().rpartition(" ")
        return {
            "EMAIL": values["email"],
            "PHONE": next(
                (values[f] for f in series.PARTNER_PHONE_FIELDS if values[f]), None
            ),
            "FN": first or last,
            "LN": last if first else "",
            "CT": values["city"],
            "ST": values["state_code"]
            if values["country_code"] == "US"
            else values["state_name"],
            "ZIP": values["zip"],
            "COUNTRY": values["country_code"],
            "EXTERN_ID": self._meta_extern_id(values["id"]),
        }

    @api.model
    def _meta_extern_id(self, partner_id):
        """The ``EXTERN_ID`` of a partner, the same at every sync of this
        database and unlike any other database's (:data:`EXTERN_ID_FORMAT`)."""
        # sudo: ir.config_parameter - the database's uuid, only digested
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return EXTERN_ID_FORMAT.format(
            database=_database_key(uuid or ""), partner_id=partner_id
        )

    def _meta_people(self, segment):
        """Yield the people of ``segment`` (a partner query) a page at a
        time, in id order, as dicts of :meth:`_meta_person_columns`.

        One query streamed through a database cursor: paging with repeated
        ``id > last LIMIT n`` queries made the database walk the segment
        from its start for every page (a tag's partners, consent), time
        growing with the square of the segment; reading the ORM's records
        cost more than hashing them."""
        self.env.flush_all()
        cr = self.env.cr
        # a name of its own: a cursor left open by an interrupted sync (the
        # transaction closes it) never collides with the next one
        cursor = SQL.identifier(f"meta_audience_people_{uuid.uuid4().hex}")
        # the segment was searched through the ORM, with the access rules of
        # whoever syncs; only its people's identifiers are read here
        cr.execute(
            SQL(
                "DECLARE %s NO SCROLL CURSOR FOR SELECT %s FROM res_partner partner "
                "LEFT JOIN res_country country ON country.id = partner.country_id "
                "LEFT JOIN res_country_state state ON state.id = partner.state_id "
                "WHERE partner.id IN %s ORDER BY partner.id",
                cursor,
                self._meta_person_columns(),
                segment.subselect(),
            )
        )
        while True:
            cr.execute(SQL("FETCH FORWARD %s FROM %s", PARTNER_CHUNK, cursor))
            people = cr.dictfetchall()
            if not people:
                break
            yield people
        cr.execute(SQL("CLOSE %s", cursor))

    def _meta_desired_rows(self):
        """Yield (partner id, extern id, row) of the people to have at Meta:
        in the segment, consenting, not suppressed, with an identifier Meta
        can use; partners read a page at a time."""
        self.ensure_one()
        schema = self._meta_schema()
        Partner = self.env["res.partner"].with_context(active_test=True)
        # only who consented is read at all: the database filters the rest
        segment = Partner._search(
            [*self._meta_segment_domain(), *self._meta_consent_domain()]
        )
        Suppression = self.env["meta.suppression"]
        for people in self._meta_people(segment):
            candidates = []
            for values in people:
                country = values["country_code"] or "TR"
                person = self._meta_person(values)
                row = person_row(schema, person, country=country)
                keys = self._meta_suppression_keys(schema, row, values, person)
                candidates.append((values["id"], person["EXTERN_ID"], row, keys))
            # one query for the page, not one per person
            suppressed = Suppression._meta_suppressed_keys(
                set().union(*(keys for *_rest, keys in candidates))
            )
            for partner_id, extern_id, row, keys in candidates:
                if keys & suppressed or not row_is_usable(schema, row):
                    continue
                yield partner_id, extern_id, row

    @api.model
    def _meta_suppression_keys(self, schema, row, values, person):
        """The hashes the suppression list is checked against: every e-mail
        and phone of the partner (its mobile too: a person erased with a
        mobile is not sent again with it as a phone), those of the row
        reused (normalising a phone is the costly part)."""
        sent = dict(zip(schema, row, strict=True))
        keys = set()
        country = values["country_code"] or "TR"
        for kind, field in MATCH_FIELDS:
            raw = values[field]
            if not raw:
                continue
            if kind in sent and raw == person[kind]:
                keys.add(sent[kind])
            else:
                keys |= {
                    key
                    for _kind, key in self.env["meta.suppression"]._meta_keys_of_values(
                        kind, raw, country
                    )
                }
        keys.discard("")
        return keys

    # ------------------------------------------------------------ sync

    def action_sync_now(self):
        self._meta_check_admin()
        self.env.ref("meta_graph_connector.ir_cron_meta_audience_sync")._trigger()
        return self.ad_account_id.connection_id[:1]._meta_notification(
            self.env._("Synchronisation started: the changes reach Meta in batches.")
        )

    @api.model
    def _cron_sync_audiences(self):
        for audience in self.search([("ad_account_id", "!=", False)]):
            audience = audience.with_company(audience.company_id)
            try:
                with self.env.cr.savepoint():
                    audience._meta_sync()
                    audience._meta_refresh_state()
            except Exception as error:  # noqa: BLE001 - one audience never stops the others
                _logger.exception("Meta audience %s: sync failed", audience.id)
                audience._meta_fail(error)
        return True

    def _meta_sync(self):
        """Send the difference between the segment and what Meta has.

        Streamed: partners are read a chunk at a time, compared with their
        members, and rows leave in batches of 10,000 as they fill; who is
        still in the segment is marked in the member table with this sync's
        number, so who left is found there, not in memory. Memory does not
        grow with the segment."""
        self.ensure_one()
        if not self._meta_ensure_at_meta():
            return
        schema = self._meta_schema()
        self.sync_number += 1
        number = self.sync_number
        adds = self._meta_sync_additions(schema, number)
        removes = self._meta_sync_removals(schema, number)
        self.write(
            {
                "last_sync_at": fields.Datetime.now(),
                "last_sync_adds": adds,
                "last_sync_removes": removes,
                "last_sync_error": False,
                "last_sync_error_detail": False,
            }
        )

    def _meta_sync_additions(self, schema, number):
        """Stream the segment, a chunk of partners at a time, and send who is
        new or changed in batches as they fill: the number of rows sent.
        Who is in the segment is marked seen by sync ``number``."""
        pending, retiring, adds = [], [], 0
        chunk = []
        for entry in self._meta_desired_rows():
            chunk.append(entry)
            if len(chunk) == PARTNER_CHUNK:
                self._meta_sync_compare(schema, chunk, number, pending, retiring)
                chunk = []
            if len(pending) >= ROWS_PER_BATCH:
                adds += self._meta_sync_send(schema, number, pending, retiring)
                self._meta_release_memory()
        self._meta_sync_compare(schema, chunk, number, pending, retiring)
        return adds + self._meta_sync_send(schema, number, pending, retiring)

    def _meta_sync_compare(self, schema, chunk, number, pending, retiring):
        """Compare ``chunk`` (partner id, extern id, row) with its members,
        marked seen by sync ``number``: what is to be sent goes to
        ``pending``, what a changed row no longer has to ``retiring``."""
        # sudo: meta.audience.member - the technical table of the sync
        Member = self.env["meta.audience.member"].sudo()
        known = Member._meta_members_of(self, chunk)
        Member._meta_mark_seen(self, [e for _p, e, _r in chunk], number)
        changed = []
        for partner_id, extern_id, row in chunk:
            digest = row_digest(row)
            member = known.get(extern_id)
            if member and member["row_digest"] == digest and member["sent_at"]:
                continue
            if member and member["row_digest"] != digest:
                changed.append((partner_id, extern_id, row, member["id"]))
            pending.append((partner_id, extern_id, row, digest))
        # the rows Meta has are read for the people whose row changed only
        sent_rows = Member._meta_rows(m for *_rest, m in changed)
        for partner_id, extern_id, row, member_id in changed:
            retired = retired_row(schema, sent_rows.get(member_id), row)
            if retired:
                retiring.append((partner_id, extern_id, retired, member_id))

    def _meta_sync_send(self, schema, number, pending, retiring):
        """Queue ``retiring`` then ``pending`` (emptied): the number of rows
        added."""
        # what people no longer are (an old e-mail, phone or EXTERN_ID)
        # leaves Meta before their new rows come, which bring them back
        # were Meta to match them by what stayed
        self._meta_enqueue_retired(schema, retiring)
        retiring.clear()
        self._meta_enqueue_batches("add_users", schema, pending, number)
        sent = len(pending)
        pending.clear()
        return sent

    def _meta_sync_removals(self, schema, number):
        """Remove who sync ``number`` did not see (they left the segment), in
        batches: their number."""
        # sudo: meta.audience.member - the technical table of the sync
        Member = self.env["meta.audience.member"].sudo()
        removes = Member.search(
            [
                ("audience_id", "=", self.id),
                ("removing", "=", False),
                "|",
                ("seen_sync", "=", False),
                ("seen_sync", "!=", number),
            ],
            order="id",
        ).ids
        for start in range(0, len(removes), ROWS_PER_BATCH):
            leaving = Member.browse(removes[start : start + ROWS_PER_BATCH])
            self._meta_enqueue_batches(
                "remove_users",
                schema,
                [(m.partner_id.id, m.extern_id, m.row, m.row_digest) for m in leaving],
            )
            self._meta_release_memory()
        return len(removes)

    def _meta_enqueue_retired(self, schema, retiring):
        """Queue the removal of ``retiring`` rows (partner id, extern id,
        retired row, member id): identifiers people no longer have. A value
        another member of the audience still has is kept (two people may
        share an e-mail)."""
        if not retiring:
            return
        held = self.env["meta.audience.member"]._meta_values_held(
            self,
            {value for _p, _e, row, _m in retiring for value in row if value},
            exclude_ids=[member_id for *_rest, member_id in retiring],
        )
        entries = []
        for partner_id, extern_id, row, _member_id in retiring:
            row = ["" if value in held else value for value in row]
            if any(row):
                entries.append((partner_id, extern_id, row, row_digest(row)))
        self._meta_enqueue_batches("remove_identifiers", schema, entries)

    def _meta_release_memory(self):
        """A batch is in the database (members, outbox): its rows need not
        stay in the ORM cache, which would otherwise grow with the segment."""
        self.env.flush_all()
        self.env.invalidate_all()

    @api.model
    def _meta_remove_partners(self, partners):
        """Take ``partners`` out of every audience now (a withdrawal, an
        objection, an erasure), without waiting for the next sync: the exact
        rows Meta has are removed through the outbox."""
        # sudo: meta.audience.member - the privacy flows of any user remove
        # a person from audiences; nobody reads the rows
        members = (
            self.env["meta.audience.member"]
            .sudo()
            .search([("partner_id", "in", partners.ids), ("row", "!=", False)])
        )
        for audience in members.audience_id:
            if not audience.meta_audience_ref:
                continue
            mine = members.filtered(lambda m, a=audience: m.audience_id == a)
            audience.sudo()._meta_enqueue_batches(
                "remove_users",
                audience._meta_schema(),
                [(m.partner_id.id, m.extern_id, m.row, m.row_digest) for m in mine],
            )

    def _meta_refresh_state(self):
        """Meta's size bounds and statuses (coarse, rounded, §7.6)."""
        self.ensure_one()
        if not self.meta_audience_ref:
            return
        try:
            info = self.ad_account_id._meta_call(
                audience_api.get_audience, self.meta_audience_ref
            )
        except GraphError as error:  # Meta's refusal: shown, the sync goes on
            self.write(_error_values(error))
            return
        self.write(
            {
                "size_lower": info.size_lower or 0,
                "size_upper": info.size_upper or 0,
                "meta_status": info.operation_description
                or (str(info.operation_code) if info.operation_code else False),
            }
        )

    def action_full_refresh(self):
        """Replace the audience at Meta with the segment as it is now
        (``usersreplace``: the ad sets keep their learning, §7.4)."""
        self._meta_check_admin()
        for audience in self:
            audience._meta_full_refresh()
        return self.ad_account_id[:1].connection_id._meta_notification(
            self.env._("Full refresh started: Meta replaces the audience's people.")
        )

    def _meta_full_refresh(self):
        self.ensure_one()
        if not self._meta_ensure_at_meta():
            return
        # sudo: meta.audience.member - the table is rebuilt from what is sent
        Member = self.env["meta.audience.member"].sudo()
        members = Member.search([("audience_id", "=", self.id)])
        # kept until the replacement is known not to be empty
        with self.env.cr.savepoint():
            members.unlink()
            sent = self._meta_enqueue_batches(
                "replace_users",
                self._meta_schema(),
                (
                    (partner_id, extern_id, row, row_digest(row))
                    for partner_id, extern_id, row in self._meta_desired_rows()
                ),
            )
            if not sent:
                raise UserError(
                    self.env._(
                        "Nobody in the segment may be sent: nothing to replace with."
                    )
                )

    def action_delete_at_meta(self):
        """Delete the audience at Meta (its ads stop reaching these people);
        once Meta confirms, it is archived here, its audit log kept."""
        self._meta_check_admin()
        for audience in self.filtered("meta_audience_ref"):
            # its lookalikes first: they are audiences of their own at Meta,
            # which deleting their seed does not delete
            for lookalike in audience.lookalike_ids.filtered("meta_audience_ref"):
                lookalike._meta_enqueue_deletion()
            self.env["meta.outbox"]._meta_enqueue(
                audience.ad_account_id,
                "delete_audience",
                {"audience_id": audience.meta_audience_ref},
                # after the batches already queued for it (its ordering key)
                origin=audience,
            )
        return self.ad_account_id[:1].connection_id._meta_notification(
            self.env._("Deletion requested: Meta deletes the audience shortly.")
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_at_meta(self):
        # deleting only the Odoo side would leave the people at Meta
        if any(audience.meta_audience_ref for audience in self):
            raise UserError(
                self.env._(
                    "This audience still exists at Meta: use “Delete at Meta” "
                    "first (or archive it to stop syncing)."
                )
            )

    def _meta_ensure_at_meta(self):
        """Create the audience at Meta on its first sync; False when Meta
        refused (the reason is on the audience)."""
        if self.meta_audience_ref:
            return True
        try:
            if not self.ad_account_id._meta_call(
                audience_api.terms_accepted, self.ad_account_id.external_id
            ):
                self.write({"state": "error", **_error_values("terms_not_accepted")})
                return False
            self.meta_audience_ref = self.ad_account_id._meta_call(
                audience_api.create_audience,
                self.ad_account_id.external_id,
                self.name,
                self.env._(
                    "Made by Odoo from %(company)s", company=self.company_id.name
                ),
            )
        except GraphError as error:  # Meta's refusal, in words on the audience
            self._meta_fail(error)
            return False
        self.state = "active"
        self.env["meta.audience.log"]._meta_log(self, "create_audience", 0)
        return True

    def _meta_fail(self, error):
        self.write({"state": "error", **_error_values(error)})

    def _meta_enqueue_batches(self, operation, schema, entries, sync_number=None):
        """Queue ``entries`` (partner id, extern id, row, digest; any
        iterable, read as it comes) in batches of one session, the last one
        flagged as such: a batch is held until the next one shows it was not
        the last, so a full refresh never has the whole segment in memory."""
        session_id = int(time.time() * 1000)
        held, seq = None, 0
        for batch in batches(entries, ROWS_PER_BATCH):
            if held is not None:
                seq += 1
                self._meta_enqueue_batch(
                    operation, schema, held, session_id, seq, False, sync_number
                )
                self._meta_release_memory()
            held = batch
        if held is not None:
            self._meta_enqueue_batch(
                operation, schema, held, session_id, seq + 1, True, sync_number
            )
        return seq + (held is not None)

    def _meta_enqueue_batch(
        self, operation, schema, batch, session_id, seq, last, sync_number=None
    ):
        Member = self.env["meta.audience.member"]
        if operation == "remove_users":
            Member.sudo().search(
                [
                    ("audience_id", "=", self.id),
                    ("extern_id", "in", [extern_id for _p, extern_id, _r, _d in batch]),
                ]
            ).removing = True
        elif operation != "remove_identifiers":
            # (identifiers people no longer have: their members hold the
            # new rows, on their way)
            Member._meta_upsert_many(self, batch, sync_number)
        self.env["meta.outbox"]._meta_enqueue(
            self.ad_account_id,
            operation,
            {
                "audience_id": self.meta_audience_ref,
                "schema": schema,
                "rows": [row for _p, _e, row, _d in batch],
                "extern_ids": [extern_id for _p, extern_id, _r, _d in batch],
                "session_id": session_id,
                "batch_seq": seq,
                "last_batch": last,
            },
            origin=self,
        )

    def _meta_outbox_done(self, item, result):
        params = item.params or {}
        if item.operation == "delete_audience":
            self.env["meta.audience.log"]._meta_log(self, "delete_audience", 0)
            # sudo: meta.audience.member - nobody is at Meta any more
            self.env["meta.audience.member"].sudo().search(
                [("audience_id", "=", self.id)]
            ).unlink()
            self.write(
                {
                    "meta_audience_ref": False,
                    "state": "draft",
                    "active": False,
                    "size_lower": 0,
                    "size_upper": 0,
                    "meta_status": False,
                }
            )
            return
        Member = self.env["meta.audience.member"]
        if item.operation == "remove_users":
            Member.search(
                [
                    ("audience_id", "=", self.id),
                    ("extern_id", "in", params.get("extern_ids") or []),
                ]
            ).unlink()
        elif item.operation != "remove_identifiers":
            # (identifiers people no longer have left: nobody left the audience)
            Member._meta_mark_sent(
                self, params.get("extern_ids") or [], params.get("rows") or []
            )
        self.env["meta.audience.log"]._meta_log(
            self,
            item.operation,
            len(params.get("rows") or []),
            batch_seq=params.get("batch_seq"),
            session_id=params.get("session_id"),
            result=result,
        )

    def _meta_outbox_gave_up(self, item, error, reason):
        if item.operation == "remove_users":
            # not removed at Meta: the next sync sends the removal again
            self.env["meta.audience.member"].sudo().search(
                [
                    ("audience_id", "=", self.id),
                    ("extern_id", "in", (item.params or {}).get("extern_ids") or []),
                ]
            ).removing = False
        self.write({"state": "error", **_error_values(str(reason))})
        self.env["meta.audience.log"]._meta_log(
            self,
            item.operation,
            len((item.params or {}).get("rows") or []),
            error=reason,
        )


#: Audience errors explained in words of ours (:func:`audience_api.explain`).
EXPLAINED_ERRORS = ("terms_not_accepted", "flagged", "schema_type_changed")


@functools.lru_cache(maxsize=8)
def _database_key(database_uuid):
    """16 hex digits naming a database in EXTERN_IDs: a digest of its uuid,
    so the uuid itself never leaves it."""
    return sha256_hex(f"meta-extern-id:{database_uuid}")[:16]


def _error_values(error):
    """What an audience keeps of an error, rendered when read
    (:func:`audience_error_text`): one of :data:`EXPLAINED_ERRORS`, else
    Meta's own words (``refused``), else the reason it failed (``failed``:
    the outbox's reason, an unexpected error)."""
    if isinstance(error, str):
        kind, detail = (
            (error, False) if error in EXPLAINED_ERRORS else ("failed", error)
        )
    elif isinstance(error, GraphError):
        kind = audience_api.explain(error)
        if kind in EXPLAINED_ERRORS:
            detail = False
        else:
            kind, detail = "refused", errors.words(error)
    else:
        kind, detail = "failed", str(error)
    return {"last_sync_error": kind, "last_sync_error_detail": detail}


def audience_error_text(env, kind, detail=None):
    """What an administrator can do about an audience error, in ``env``'s
    language."""
    texts = {
        "terms_not_accepted": env._(
            "The ad account has not accepted Meta's Custom Audience terms: "
            "accept them in Meta Ads Manager, then sync again."
        ),
        "flagged": env._(
            "Meta blocked this audience in its review (status 471): it cannot "
            "be changed; see it in Meta Ads Manager."
        ),
        "schema_type_changed": env._(
            "Meta keeps the identifiers an audience was made with: create a new "
            "audience to send others."
        ),
    }
    if kind in texts:
        return texts[kind]
    if kind == "refused":
        # quoted apart: Odoo's term extraction evaluates the call's strings,
        # an f-string there makes it skip the whole file
        words = f"“{detail}”"
        return env._("Meta refused: %(error)s", error=words)
    return detail or ""
