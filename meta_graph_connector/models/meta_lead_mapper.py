from ast import literal_eval
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from odoo import Command, api, models, tools
from odoo.tools import email_normalize

from ..graph.phone import phone_region
from ..graph.text import place_key, strip_export_prefix
from ..graph.times import to_naive_utc


@dataclass(frozen=True)
class MetaLeadOrigin:
    """What a Meta source says of the lead it brings: a Lead Ads form's
    submission, a Messenger or Instagram conversation, a comment. Each source
    fills one (its ``_meta_lead_origin`` hook); ``meta.lead.mapper`` makes
    the lead's values of it, with one attribution and one owner rule."""

    company: Any  # res.company
    # where the person is: "facebook" (a Page, Messenger) or "instagram"
    platform: str | None
    # an ad brought the person (paid social), else organic social
    paid: bool
    partner: Any = None  # res.partner
    name: str | None = None
    # HTML already escaped by the source: Meta's words are text
    description: Markup | None = None
    ad_id: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    # the source's salesperson: a form's, or who makes the lead by hand
    user: Any = None  # res.users
    # the source's team (an empty one: none); None when the source has no
    # team of its own, crm then gives the salesperson's
    team: Any = None  # crm.team


class MetaLeadMapper(models.AbstractModel):
    """How a Meta source becomes the values of a CRM lead.

    Every source (Lead Ads, a conversation, a comment) describes itself as a
    :class:`MetaLeadOrigin`; :meth:`_meta_origin_values` makes the values all
    leads share, with one UTM rule and one owner rule. For Lead Ads, the
    form's mapping lines (``meta.lead.form.field``) say where each question
    goes; this model applies them and builds the keys the customer is matched
    by. It keeps no data: every step is a small method an extension
    overrides.
    """

    _name = "meta.lead.mapper"
    _description = "Meta Lead Answers Mapping"

    # ------------------------------------------------------------ any source

    @api.model
    def _meta_origin_values(self, origin):
        """crm.lead values of any Meta source: the person, where they are,
        the ad that brought them, the attribution and the owner."""
        values = {
            "company_id": origin.company.id,
            "partner_id": origin.partner.id if origin.partner else False,
            "meta_platform": origin.platform or False,
            "meta_is_organic": not origin.paid,
            "meta_ad_id": origin.ad_id or False,
            "meta_campaign_ref": origin.campaign_id or False,
            "meta_campaign_name": origin.campaign_name or False,
            **self._meta_owner_values(origin),
            **self._meta_utm_values(origin),
        }
        if origin.name:
            values["name"] = origin.name
        if origin.description:
            values["description"] = origin.description
        return values

    @api.model
    def _meta_owner_values(self, origin):
        """The source's salesperson and team. The salesperson is always
        written: crm's default is the current user, who for an import is the
        cron's. With a team but nobody, :meth:`_meta_assign` chooses."""
        values = {"user_id": origin.user.id if origin.user else False}
        if origin.team is not None:
            values["team_id"] = origin.team.id or False
        return values

    @api.model
    def _meta_assign(self, leads, user, team):
        """Leads of a source with a team (``team``) and no salesperson
        (``user``) go to a member of the team chosen as crm's own lead
        assignment chooses, else to nobody: crm's rule-based assignment may
        then take them, as any unassigned lead.

        crm has no per-lead door: ``CrmTeam._assign_and_convert_leads``
        takes every unassigned lead of the team, converts them to
        opportunities and commits as it goes (a cron's job, not an event's
        transaction), so only its member rule is followed here."""
        if user or not team:
            return
        members = team.crm_team_member_ids.filtered(
            lambda m: not m.assignment_optout and m.user_id.active
        )
        for lead in leads:
            member = self._meta_pick_team_member(lead, members)
            lead._handle_salesmen_assignment(
                user_ids=member.user_id.ids or False, team_id=team.id
            )

    @api.model
    def _meta_pick_team_member(self, lead, members):
        """The member crm would give ``lead`` to
        (``CrmTeam._assign_and_convert_leads``): among members with daily
        quota left (``CrmTeamMember._get_assignment_quota``: capacity per 30
        days against leads received in the last 24 h), the one with the most,
        in the team's member order, whose assignment domain accepts the lead.
        Quotas shrink as leads are given, which makes crm's round robin."""
        # computed from crm.lead without being stored: leads assigned a
        # moment ago in this transaction must count
        members.invalidate_recordset(["lead_day_count", "lead_month_count"])
        quotas = {member: member._get_assignment_quota() for member in members}
        for member in sorted(members, key=lambda m: quotas[m], reverse=True):
            if quotas[member] <= 0:
                break
            if lead.filtered_domain(literal_eval(member.assignment_domain or "[]")):
                return member
        return members.browse()

    @api.model
    def _meta_create_lead(self, origin, values=None):
        """The lead of a source made by hand (a conversation, a comment): its
        values, ``values`` added, created as the user, then owned."""
        lead = self.env["crm.lead"].create(
            {**self._meta_origin_values(origin), **(values or {})}
        )
        self._meta_assign(lead, origin.user, origin.team)
        return lead

    # ------------------------------------------------------------ Lead Ads

    @api.model
    def _meta_form_origin(self, form, lead_data, partner=None):
        """What a Lead Ads submission says: the form's salesperson and team
        (never the importing cron's user), the ad and campaign Meta gives."""
        return MetaLeadOrigin(
            company=form.company_id,
            platform=lead_data.platform,
            paid=not lead_data.is_organic,
            partner=partner,
            ad_id=lead_data.ad_id,
            campaign_id=lead_data.campaign_id,
            campaign_name=lead_data.campaign_name,
            user=form.user_id,
            team=form.team_id,
        )

    @api.model
    def _meta_lead_values(self, form, lead_data, partner=None):
        """crm.lead values of one normalized lead of ``form``."""
        values = {
            **self._meta_origin_values(
                self._meta_form_origin(form, lead_data, partner)
            ),
            "type": form.lead_type,
            "tag_ids": [Command.set(form.tag_ids.ids)],
            "meta_form_id": form.id,
            "meta_page_id": form.page_id.id,
            "meta_ad_name": lead_data.ad_name or False,
            "meta_adset_id": lead_data.adset_id or False,
            "meta_adset_name": lead_data.adset_name or False,
            "meta_submitted_at": to_naive_utc(lead_data.created_time) or False,
        }
        values.update(self._meta_mapped_values(form, lead_data))
        if not values.get("country_id"):
            values["country_id"] = self._meta_guess_country(form, lead_data).id or False
        values.update(self._meta_place_values(lead_data, values))
        lang = self.env["res.lang"]._lang_get(form.locale or "")
        if lang:
            # crm gives the new customer the lead's language
            values["lang_id"] = lang.id
        who = values.get("contact_name") or lead_data.email or lead_data.phone
        values["name"] = self.env._(
            "%(who)s - %(form)s", who=who or lead_data.lead_id, form=form.name
        )
        if lead_data.is_test:
            values.update(self._meta_test_lead_values(form, values))
        return values

    @api.model
    def _meta_test_lead_values(self, form, values):
        """A test lead is marked (a flag and a tag) and carries none of Meta's
        placeholders as a person: no contact, no customer is made of it."""
        tag = self.env.ref(
            "meta_graph_connector.crm_tag_meta_test_lead", raise_if_not_found=False
        )
        return {
            "meta_is_test": True,
            "name": self.env._("Test lead - %(form)s", form=form.name),
            "partner_id": False,
            "contact_name": False,
            "partner_name": False,
            "tag_ids": [
                *values.get("tag_ids", []),
                *([Command.link(tag.id)] if tag else []),
            ],
        }

    @api.model
    def _meta_history_values(self):
        """Extra values of leads imported as history (backfill, old leads
        found by the reconciliation).

        History must not set off mass side effects the administrator did not
        choose for it: crm's lead enrichment (crm_iap_enrich, "auto" by
        default) would send every imported e-mail address to a third party
        and spend credits, thousands at a time after a backfill. New leads
        keep whatever enrichment the company chose.
        """
        if "iap_enrich_done" in self.env["crm.lead"]._fields:
            return {"iap_enrich_done": True}
        return {}

    @api.model
    def _meta_mapped_values(self, form, lead_data):
        """Values of the questions the mapping places in lead fields."""
        values = {}
        notes = []
        for line in form.field_ids.filtered("target_field"):
            answer = next(
                (a for a in lead_data.answers if a.key == line.question_key), None
            )
            if answer is None:
                continue
            value = self._meta_answer_value(line, answer, lead_data)
            if not value:
                continue
            if line.target_field == "description":
                notes.append(f"{answer.label}: {value}")
            elif line.target_field == "country_id":
                values["country_id"] = self._meta_country(lead_data).id or False
            elif line.target_field == "state_id":
                country = self._meta_country(lead_data) or self._meta_guess_country(
                    form, lead_data
                )
                values["state_id"] = self._meta_find_state(value, country)
            else:
                values.setdefault(line.target_field, value)
        if notes:
            # description is HTML: a plain str would be taken as markup and
            # only sanitized (a remote <img> survives: a tracking pixel when
            # the salesperson opens the lead). Answers are text: escape them.
            values["description"] = Markup("<p>%s</p>") % Markup("<br/>").join(notes)
        return values

    @api.model
    def _meta_answer_value(self, line, answer, lead_data):
        """Normalized value for standard questions, the raw answer otherwise."""
        normalized = {
            "full_name": lead_data.full_name,
            "first_name": lead_data.full_name,
            "last_name": lead_data.full_name,
            "email": lead_data.email or lead_data.email_raw,
            # an unparsable number is still worth showing to the salesperson
            "phone": lead_data.phone or lead_data.phone_raw,
            "company": lead_data.company,
            "job_title": lead_data.job_title,
            "street": lead_data.street,
            "city": lead_data.city,
            "zip": lead_data.zip,
            "state": lead_data.state,
            "country": lead_data.country_code,
        }
        if line.canonical_field in normalized:
            return normalized[line.canonical_field]
        return answer.value

    @api.model
    def _meta_country(self, lead_data):
        if not lead_data.country_code:
            return self.env["res.country"]
        return self.env["res.country"].browse(
            self._meta_country_id(lead_data.country_code)
        )

    @api.model
    def _meta_guess_country(self, form, lead_data):
        """The lead's country when the form does not ask for it: the phone's
        (+90 is Turkey), else the form's locale's (``tr_TR``)."""
        code = phone_region(lead_data.phone)
        if not code and form.locale and "_" in form.locale:
            code = form.locale.rsplit("_", 1)[1]
        if not code:
            return self.env["res.country"]
        return self.env["res.country"].browse(self._meta_country_id(code.upper()))

    @api.model
    @tools.ormcache("code")
    def _meta_country_id(self, code):
        """The id of the country of ISO code ``code``, or None: looked up once
        per worker, as ``res.country._phone_code_for`` does (every lead of a
        backfill asks it)."""
        return self.env["res.country"].search([("code", "=", code)], limit=1).id or None

    @api.model
    def _meta_find_state(self, name, country):
        """The state (province) of ``country`` called ``name``, however it
        was typed ("İSTANBUL", "istanbul", "Istanbul"), or False."""
        if not country or not name:
            return False
        key = place_key(name)
        # the country's states, read once for a whole batch (the ORM cache)
        return next(
            (s.id for s in country.state_ids if place_key(s.name) == key), False
        )

    @api.model
    def _meta_place_values(self, lead_data, values):
        """Where the "city" answer is a province: in Turkey, Meta's City
        question ("Şehir") is answered with the province (il), which Odoo
        keeps as the state; the district (ilçe), when a question asks it, is
        then the city."""
        if not values.get("city") or values.get("state_id"):
            return {}
        country = self.env["res.country"].browse(values.get("country_id"))
        state = self._meta_find_state(values["city"], country)
        if not state:
            return {}
        district = self._meta_district(lead_data)
        return {"state_id": state, **({"city": district} if district else {})}

    @api.model
    def _meta_district(self, lead_data):
        """The answer to a district question (custom: "İlçe", "district")."""
        for answer in lead_data.answers:
            words = place_key(f"{answer.key} {answer.label}")
            if any(word in words for word in ("ilce", "district")) and answer.value:
                return answer.value
        return False

    @api.model
    def _meta_name_mediums(self):
        """Name our UTM mediums in the company's language.

        Odoo does not translate a medium's name (one name for every reader):
        it is given once, at install, in the language of the main company, so
        a Turkish company reads "Ücretli Sosyal Medya" in its reports. A name
        an administrator changed is kept."""
        partner = self.env.ref("base.main_company").partner_id
        env = self.with_context(lang=partner.lang or "en_US").env
        names = {
            "Paid Social": env._("Paid Social"),
            "Organic Social": env._("Organic Social"),
        }
        for xmlid, english in (
            ("utm_medium_paid_social", "Paid Social"),
            ("utm_medium_organic_social", "Organic Social"),
        ):
            name = names[english]
            medium = self.env.ref(f"meta_graph_connector.{xmlid}", False)
            if medium and medium.name == english and name != english:
                medium.name = name

    @api.model
    def _meta_utm_values(self, origin):
        """The one attribution of every Meta lead: source Instagram or
        Facebook by platform, medium paid social when an ad brought the
        person (organic social otherwise), campaign from the ad's campaign
        when Meta gives it."""
        # ir.model.data's cached ids: env.ref would read each record again
        # for every lead of a batch
        xmlid_to_id = self.env["ir.model.data"]._xmlid_to_res_id
        source = xmlid_to_id(
            "meta_graph_connector.utm_source_instagram"
            if origin.platform == "instagram"
            else "utm.utm_source_facebook",
            raise_if_not_found=False,
        )
        medium = xmlid_to_id(
            "meta_graph_connector.utm_medium_paid_social"
            if origin.paid
            else "meta_graph_connector.utm_medium_organic_social",
            raise_if_not_found=False,
        )
        campaign = self.env["utm.campaign"]._meta_find_or_create(
            origin.campaign_id, origin.campaign_name
        )
        return {
            "source_id": source or False,
            "medium_id": medium or False,
            "campaign_id": campaign.id or False,
        }

    @api.model
    def _meta_match_keys(self, form, lead_data):
        """(e-mail key, phone key) of a lead, made by Odoo's own functions:
        ``email_normalize`` makes ``email_normalized`` (a non-ASCII local part
        keeps its case there, so a Turkish-aware lowering would never match),
        and ``_phone_format`` in E.164 makes ``phone_sanitized``. The core's
        normalization only helps them read the spellings people type
        ("0090 532…", "p:+90…"); the key itself is Odoo's."""
        typed = lead_data.email_raw if lead_data.email else None
        email = email_normalize(strip_export_prefix(typed or "").strip()) or False
        number = lead_data.phone or lead_data.phone_raw
        phone = False
        if number:
            country = self._meta_country(lead_data) or form.company_id.country_id
            phone = self.env["res.partner"]._phone_format(
                number=number, country=country, force_format="E164"
            )
        return email, phone
