from markupsafe import Markup

from odoo import Command, api, models
from odoo.tools import email_normalize

from ..graph.phone import phone_region
from ..graph.text import place_key, strip_export_prefix
from ..graph.times import to_naive_utc


class MetaLeadMapper(models.AbstractModel):
    """How the answers of a Lead Ads form become the values of a CRM lead.

    The form's mapping lines (``meta.lead.form.field``) say where each
    question goes; this model applies them, adds the ad's attribution and
    builds the keys the customer is matched by. It keeps no data: every step
    is a small method an extension overrides.
    """

    _name = "meta.lead.mapper"
    _description = "Meta Lead Answers Mapping"

    @api.model
    def _meta_lead_values(self, form, lead_data, partner=None):
        """crm.lead values of one normalized lead of ``form``."""
        values = {
            "type": form.lead_type,
            "company_id": form.company_id.id,
            # Explicit: never let the importing (cron) user own the lead.
            "user_id": form.user_id.id or False,
            "team_id": form.team_id.id or False,
            "tag_ids": [Command.set(form.tag_ids.ids)],
            "partner_id": partner.id if partner else False,
            "meta_form_id": form.id,
            "meta_page_id": form.page_id.id,
            "meta_platform": lead_data.platform or False,
            "meta_is_organic": lead_data.is_organic,
            "meta_ad_id": lead_data.ad_id or False,
            "meta_ad_name": lead_data.ad_name or False,
            "meta_adset_id": lead_data.adset_id or False,
            "meta_adset_name": lead_data.adset_name or False,
            "meta_campaign_ref": lead_data.campaign_id or False,
            "meta_campaign_name": lead_data.campaign_name or False,
            "meta_submitted_at": to_naive_utc(lead_data.created_time) or False,
            **self._meta_utm_values(lead_data),
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
        return self.env["res.country"].search(
            [("code", "=", lead_data.country_code)], limit=1
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
        return self.env["res.country"].search([("code", "=", code.upper())], limit=1)

    @api.model
    def _meta_find_state(self, name, country):
        """The state (province) of ``country`` called ``name``, however it
        was typed ("İSTANBUL", "istanbul", "Istanbul"), or False."""
        if not country or not name:
            return False
        key = place_key(name)
        states = self.env["res.country.state"].search([("country_id", "=", country.id)])
        return next((s.id for s in states if place_key(s.name) == key), False)

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
    @api.model
    def _meta_name_mediums(self):
        """Name our UTM mediums in the company's language.

        Odoo does not translate a medium's name (one name for every reader):
        it is given once, at install, in the language of the main company, so
        a Turkish company reads "Ücretli Sosyal Medya" in its reports. A name
        an administrator changed is kept."""
        partner = self.env.ref("base.main_company").partner_id
        env = self.with_context(lang=partner.lang or "en_US").env
        for xmlid, english, name in (
            ("utm_medium_paid_social", "Paid Social", env._("Paid Social")),
            ("utm_medium_organic_social", "Organic Social", env._("Organic Social")),
        ):
            medium = self.env.ref(f"meta_graph_connector.{xmlid}", False)
            if medium and medium.name == english and name != english:
                medium.name = name

    def _meta_utm_values(self, lead_data):
        """Source by platform, medium paid/organic, campaign from Meta's."""
        source = (
            self.env.ref("meta_graph_connector.utm_source_instagram")
            if lead_data.platform == "instagram"
            else self.env.ref("utm.utm_source_facebook")
        )
        medium = self.env.ref(
            "meta_graph_connector.utm_medium_organic_social"
            if lead_data.is_organic
            else "meta_graph_connector.utm_medium_paid_social"
        )
        campaign = self.env["utm.campaign"]._meta_find_or_create(
            lead_data.campaign_id, lead_data.campaign_name
        )
        return {
            "source_id": source.id,
            "medium_id": medium.id,
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
