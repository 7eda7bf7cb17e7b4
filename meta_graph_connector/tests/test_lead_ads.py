from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..graph.text import place_key
from ..graph.webhook import parse_delivery
from .common import MetaHttpCase, MetaTransactionCase, payloads

EVENT_LOGGER = "odoo.addons.meta_graph_connector.models.meta_queue_mixin"
BINDING_LOGGER = "odoo.addons.meta_graph_connector.models.meta_lead_importer"
SYNC_LOGGER = "odoo.addons.meta_graph_connector.models.meta_lead_sync"

QUESTIONS = [
    {"id": "1", "key": "full_name", "label": "Adınız Soyadınız", "type": "FULL_NAME"},
    {"id": "2", "key": "email", "label": "E-posta", "type": "EMAIL"},
    {"id": "3", "key": "phone_number", "label": "Telefon", "type": "PHONE"},
    {"id": "4", "key": "company_name", "label": "Şirket", "type": "COMPANY_NAME"},
    {"id": "5", "key": "job_title", "label": "Ünvan", "type": "JOB_TITLE"},
    {"id": "6", "key": "city", "label": "Şehir", "type": "CITY"},
    {
        "id": "7",
        "key": "hangi_hizmet?",
        "label": "Hangi hizmet?",
        "type": "CUSTOM",
        "options": [
            {"key": "kurumsal", "value": "Kurumsal paket"},
            {"key": "bireysel", "value": "Bireysel paket"},
        ],
    },
    {"id": "8", "key": "notlar", "label": "Notlarınız", "type": "CUSTOM"},
]


def answers(**overrides):
    values = {
        "full_name": "AYŞE YILMAZ",
        "email": "  Ayse.Yilmaz@Example.COM ",
        "phone_number": "0532 123 45 67",
        "company_name": "Yılmaz Tekstil",
        "job_title": "Satın Alma Müdürü",
        "city": "İstanbul",
        "hangi_hizmet?": "kurumsal",
        "notlar": "<script>alert('x')</script> hafta içi arayın",
    }
    values.update(overrides)
    return [{"name": key, "values": [value]} for key, value in values.items() if value]


class LeadAdsMixin:
    def setUp(self):
        super().setUp()
        self.sim_form = self.simulator.add_form(
            self.sim_page["id"], name="Kış Kampanyası", questions=QUESTIONS
        )
        self.team = self.env["crm.team"].create({"name": "Meta Ekibi"})
        self.seller = new_test_user(
            self.env,
            login="meta_seller",
            groups="sales_team.group_sale_salesman",
            name="Mehmet Satıcı",
        )
        self.other_seller = new_test_user(
            self.env,
            login="meta_seller_2",
            groups="sales_team.group_sale_salesman",
            name="Zeynep Satıcı",
        )
        self.form = self.env["meta.lead.form"]._meta_get_form(
            self.page, self.sim_form["id"]
        )
        self.form.write(
            {
                "user_id": self.seller.id,
                "team_id": self.team.id,
                "lead_type": "opportunity",
                "backfill_state": "done",
            }
        )
        self.Event = self.env["meta.webhook.event"]
        self.Lead = self.env["crm.lead"].with_context(active_test=False)

    def submit(self, **lead_fields):
        """A person submits the form on Meta (no webhook sent by itself)."""
        lead_fields.setdefault("field_data", answers())
        lead_fields.setdefault("ad_id", "120200000000001")
        lead_fields.setdefault("ad_name", "Kış reklamı")
        lead_fields.setdefault("adset_id", "120200000000002")
        lead_fields.setdefault("adset_name", "İstanbul 25-45")
        lead_fields.setdefault("campaign_id", "120200000000003")
        lead_fields.setdefault("campaign_name", "Kış 2026")
        return self.simulator.add_lead(self.sim_form["id"], **lead_fields)

    def deliver(self, *leads):
        changes = [payloads.leadgen_change(lead) for lead in leads]
        self.Event._meta_store_events(
            parse_delivery(payloads.delivery("page", changes))
        )
        self.Event._cron_process_events()

    def lead_of(self, sim_lead):
        binding = self.env["meta.lead"].search([("leadgen_id", "=", sim_lead["id"])])
        return binding.lead_id


@tagged("post_install", "-at_install")
class TestLeadAdsWebhookHttp(LeadAdsMixin, MetaHttpCase):
    def test_webhook_to_lead_end_to_end(self):
        sim_lead = self.submit(platform="ig")
        body = self.encode(
            payloads.delivery("page", [payloads.leadgen_change(sim_lead)])
        )
        self.assertEqual(self.post_delivery(body).status_code, 200)
        self.Event._cron_process_events()
        lead = self.lead_of(sim_lead)
        self.assertTrue(lead)
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.contact_name, "Ayşe Yılmaz")
        self.assertEqual(lead.email_from, "ayse.yilmaz@example.com")
        self.assertEqual(lead.phone, "+905321234567")
        self.assertEqual(lead.partner_name, "Yılmaz Tekstil")
        self.assertEqual(lead.function, "Satın Alma Müdürü")
        self.assertEqual(lead.city, "İstanbul")
        self.assertEqual(
            lead.source_id, self.env.ref("meta_graph_connector.utm_source_instagram")
        )
        self.assertEqual(
            lead.medium_id, self.env.ref("meta_graph_connector.utm_medium_paid_social")
        )
        self.assertEqual(lead.campaign_id.name, "Kış 2026")
        self.assertEqual(lead.campaign_id.meta_campaign_id, "120200000000003")
        self.assertEqual(lead.meta_ad_name, "Kış reklamı")
        self.assertEqual(lead.meta_adset_id, "120200000000002")
        self.assertEqual(lead.meta_platform, "instagram")
        self.assertEqual(lead.user_id, self.seller)
        self.assertEqual(lead.team_id, self.team)
        event = self.Event.search([])
        self.assertEqual(event.state, "done")
        self.assertEqual((event.res_model, event.res_id), ("crm.lead", lead.id))

    def test_meta_like_delivery_storm_gives_exactly_the_expected_leads(self):
        """Duplicated, re-batched, shuffled deliveries of leads spelled every
        way a person types them: exactly one lead each, normalized, matched."""
        existing = self.env["res.partner"].create(
            {
                "name": "Kayıtlı Müşteri",
                "phone": "0505 111 22 33",
                "country_id": self.env.ref("base.tr").id,
            }
        )
        phone_spellings = [
            "+90 505 111 22 33",
            "05051112233",
            "5051112233",
            "0090 505 111 2233",
            "90 505 111 22 33",
            "(0505) 111-22-33",
            "+90-505-111-22-33",
        ]
        expected = {}
        sim_leads = []
        for index in range(40):
            if index < len(phone_spellings):
                phone, e164 = phone_spellings[index], "+905051112233"
            else:
                local = f"53{index % 10}{index:07d}"
                phone = f"0{local[:3]} {local[3:6]} {local[6:8]} {local[8:]}"
                e164 = f"+90{local}"
            email = f" Musteri.{index}@Örnek-Firma.COM.tr " if index % 3 else ""
            sim_lead = self.submit(
                field_data=answers(email=email, phone_number=phone),
                platform="ig" if index % 2 else "fb",
            )
            sim_leads.append(sim_lead)
            expected[sim_lead["id"]] = e164
        report = self.simulator.webhooks.deliver_changes(
            f"{self.base_url()}/meta/webhook",
            [payloads.leadgen_change(lead) for lead in sim_leads],
            batch_size=7,
            duplicate_rate=0.3,
            rebatch_rate=0.3,
            shuffle=True,
        )
        self.assertFalse(report.dropped)
        self.drain_queue(self.Event)
        bindings = self.env["meta.lead"].search([("form_id", "=", self.form.id)])
        self.assertEqual(sorted(bindings.mapped("leadgen_id")), sorted(expected))
        leads = self.Lead.search([("meta_form_id", "=", self.form.id)])
        self.assertEqual(len(leads), 40)
        for binding in bindings:
            self.assertEqual(binding.lead_id.phone, expected[binding.leadgen_id])
        matched = bindings.filtered(
            lambda b: expected[b.leadgen_id] == "+905051112233"
        ).lead_id
        self.assertEqual(len(matched), len(phone_spellings))
        self.assertEqual(matched.partner_id, existing)
        states = set(self.Event.search([]).mapped("state"))
        self.assertEqual(states, {"done"})


@tagged("post_install", "-at_install")
class TestLeadAds(LeadAdsMixin, MetaTransactionCase):
    def test_lead_is_attributed_assigned_and_notified(self):
        bus_before = self.env["bus.bus"].search([], order="id desc", limit=1).id or 0
        # submitted 12 min 34 s before the lead is made (the transaction's
        # time, which stamps what it creates)
        made_at = self.env.cr.now()
        submitted_at = made_at.replace(microsecond=0) - timedelta(seconds=754)
        sim_lead = self.submit(
            created_time=int(submitted_at.replace(tzinfo=timezone.utc).timestamp())
        )
        self.deliver(sim_lead)
        lead = self.lead_of(sim_lead)
        root = self.env.ref("base.user_root")
        self.assertNotIn(lead.user_id, root | self.env.user)
        self.assertEqual(lead.source_id, self.env.ref("utm.utm_source_facebook"))
        # the call activity is for the salesperson, due now
        activity = lead.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(
            activity.activity_type_id, self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(activity.user_id, self.seller)
        self.assertLessEqual(activity.date_deadline, fields.Date.today())
        # instant notification in the salesperson's session
        toasts = self.env["bus.bus"].search(
            [
                ("id", ">", bus_before),
                ("message", "ilike", "meta_graph_connector/new_lead"),
            ]
        )
        self.assertTrue(toasts)
        self.assertIn(f'"res.partner",{self.seller.partner_id.id}]', toasts[-1].channel)
        # chatter note with the answers, escaped
        note = lead.message_ids.filtered(lambda m: "Kış Kampanyası" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("Kurumsal paket", note.body)
        self.assertIn("&lt;script&gt;", note.body)
        self.assertNotIn("<script>", note.body)
        self.assertNotIn("<script>", lead.meta_answers_html)
        self.assertIn("Notlarınız", lead.meta_answers_html)
        # speed to lead: from Meta's created_time to the lead
        self.assertEqual(lead.meta_submitted_at, submitted_at)
        self.assertEqual(lead.create_date, made_at)
        self.assertAlmostEqual(
            lead.meta_speed_to_lead, 754 + made_at.microsecond / 1e6, places=3
        )

    def test_unassigned_form_leaves_the_lead_unowned(self):
        self.form.write({"user_id": False, "team_id": False})
        sim_lead = self.submit()
        self.deliver(sim_lead)
        lead = self.lead_of(sim_lead)
        self.assertFalse(lead.user_id, "never owned by the cron user")
        self.assertFalse(lead.activity_ids)

    def test_team_assignment_balances_members(self):
        self.form.user_id = False
        for user in (self.seller, self.other_seller):
            self.env["crm.team.member"].create(
                {"crm_team_id": self.team.id, "user_id": user.id}
            )
        first, second = self.submit(), self.submit()
        self.deliver(first)
        self.deliver(second)
        owners = self.lead_of(first).user_id | self.lead_of(second).user_id
        self.assertEqual(owners, self.seller | self.other_seller)
        self.assertEqual(self.lead_of(first).team_id, self.team)

    def test_a_backlog_of_a_team_form_gives_each_customer_its_salesperson(self):
        self.form.user_id = False
        for user in (self.seller, self.other_seller):
            self.env["crm.team.member"].create(
                {"crm_team_id": self.team.id, "user_id": user.id}
            )
        leads = [
            self.submit(
                field_data=answers(
                    full_name=f"Kişi {index}",
                    email=f"kisi{index}@example.com",
                    phone_number=f"0532 123 45 6{index}",
                    company_name=False,
                )
            )
            for index in range(4)
        ]
        self.deliver(*leads)
        crm_leads = self.Lead.browse([self.lead_of(lead).id for lead in leads])
        self.assertEqual(crm_leads.user_id, self.seller | self.other_seller)
        self.assertEqual(len(crm_leads.partner_id), 4)
        for lead in crm_leads:
            # crm gives a new customer its lead's salesperson
            self.assertEqual(lead.partner_id.user_id, lead.user_id)
            # the customer is given in the transaction that makes the lead:
            # its chatter shows no "Customer" change to the salesperson
            self.assertFalse(
                lead.message_ids.tracking_value_ids.filtered(
                    lambda t: t.field_id.name == "partner_id"
                )
            )

    def test_team_assignment_follows_crms_member_rules(self):
        """crm's own choice: a member's assignment domain, its daily quota
        (capacity / 30 against leads of the last 24 h), most quota first."""
        self.form.user_id = False
        Member = self.env["crm.team.member"]
        # 60 a month: 2 a day; only Facebook leads
        facebook_only = Member.create(
            {
                "crm_team_id": self.team.id,
                "user_id": self.seller.id,
                "assignment_max": 60,
                "assignment_domain": "[('meta_platform', '=', 'facebook')]",
            }
        )
        # 30 a month: 1 a day
        anyone = Member.create(
            {"crm_team_id": self.team.id, "user_id": self.other_seller.id}
        )
        leads = [
            self.submit(platform="ig"),  # only `anyone` accepts it
            self.submit(platform="fb"),  # `facebook_only` has the most quota
            self.submit(platform="fb"),  # `facebook_only` again (quota 1 vs 0)
            self.submit(platform="ig"),  # `anyone` has no quota left today
        ]
        for lead in leads:
            self.deliver(lead)
        owners = [self.lead_of(lead).user_id for lead in leads]
        self.assertEqual(
            owners,
            [anyone.user_id, facebook_only.user_id, facebook_only.user_id, owners[3]],
        )
        self.assertFalse(
            owners[3], "nobody has quota: crm's own assignment may take it"
        )
        self.assertEqual(self.lead_of(leads[3]).team_id, self.team)

    def test_partner_matched_by_every_turkish_phone_spelling(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Ayşe Yılmaz",
                "phone": "0532 123 45 67",
                "country_id": self.env.ref("base.tr").id,
            }
        )
        spellings = [
            "+90 532 123 45 67",
            "05321234567",
            "5321234567",
            "0090 532 123 4567",
            "90 532 123 45 67",
            "(0532) 123-45-67",
            "+90-532-123-45-67",
        ]
        for spelling in spellings:
            sim_lead = self.submit(field_data=answers(email="", phone_number=spelling))
            self.deliver(sim_lead)
            self.assertEqual(self.lead_of(sim_lead).partner_id, partner, spelling)

    def test_partner_matched_by_email_case_variants(self):
        partner = self.env["res.partner"].create(
            {"name": "Ayşe Yılmaz", "email": "Ayse.Yilmaz@Example.com"}
        )
        for email in (
            "ayse.yilmaz@example.com",
            "AYSE.YILMAZ@EXAMPLE.COM",
            " Ayse.Yilmaz@example.com ",
        ):
            sim_lead = self.submit(field_data=answers(email=email, phone_number=""))
            self.deliver(sim_lead)
            self.assertEqual(self.lead_of(sim_lead).partner_id, partner, email)

    def test_customer_created_only_when_the_form_says_so(self):
        sim_lead = self.submit(
            field_data=answers(email="yeni@example.com", phone_number="")
        )
        self.deliver(sim_lead)
        partner = self.lead_of(sim_lead).partner_id
        self.assertTrue(partner)
        self.assertEqual(partner.email_normalized, "yeni@example.com")
        self.form.create_partner = False
        sim_lead = self.submit(
            field_data=answers(email="baska@example.com", phone_number="")
        )
        self.deliver(sim_lead)
        self.assertFalse(self.lead_of(sim_lead).partner_id)

    def test_duplicate_deliveries_make_one_lead(self):
        sim_lead = self.submit()
        other = self.submit(field_data=answers(email="diger@example.com"))
        self.deliver(sim_lead)
        self.deliver(sim_lead, other)  # redelivered, re-batched with a neighbour
        self.deliver(sim_lead)
        self.assertEqual(
            self.env["meta.lead"].search_count([("leadgen_id", "=", sim_lead["id"])]), 1
        )
        self.assertEqual(
            len(self.Lead.search([("meta_form_id", "=", self.form.id)])), 2
        )

    def test_mapping_sends_custom_answers_to_notes_and_keeps_all_answers(self):
        line = self.form.field_ids.filtered(lambda f: f.question_key == "hangi_hizmet?")
        self.assertFalse(
            line.target_field, "custom questions are not placed by default"
        )
        line.target_field = "description"
        sim_lead = self.submit()
        self.deliver(sim_lead)
        lead = self.lead_of(sim_lead)
        self.assertIn("Hangi hizmet?: Kurumsal paket", str(lead.description))
        self.assertIn("hafta içi arayın", lead.meta_answers_html)

    def test_answers_mapped_to_notes_are_text_never_html(self):
        self.form.field_ids.filtered(
            lambda f: f.question_key == "notlar"
        ).target_field = "description"
        pixel = '<img src="https://tracker.example/p.png"> <b>Acil</b> & hızlı'
        sim_lead = self.submit(field_data=answers(notlar=pixel))
        self.deliver(sim_lead)
        description = str(self.lead_of(sim_lead).description)
        self.assertNotIn("<img", description)
        self.assertNotIn("<b>", description)
        self.assertIn("&lt;img src=", description)
        self.assertIn("&lt;b&gt;Acil&lt;/b&gt; &amp; hızlı", description)

    @mute_logger(EVENT_LOGGER)
    def test_a_lead_meta_does_not_have_is_dead_at_once(self):
        ghost = {
            "id": "900000000099999",
            "form_id": self.sim_form["id"],
            "page_id": self.sim_page["id"],
            "created_time": 1790000000,
        }
        self.deliver(ghost)
        event = self.Event.search([("key", "like", ghost["id"])])
        self.assertEqual(event.state, "dead")
        self.assertEqual(event.attempts, 1)
        calls = [r for r in self.simulator.requests if r.path.endswith(ghost["id"])]
        self.assertEqual(len(calls), 1, "'does not exist' is not retried")

    def test_standard_questions_get_default_mapping(self):
        targets = {f.question_key: f.target_field for f in self.form.field_ids}
        self.assertEqual(targets["full_name"], "contact_name")
        self.assertEqual(targets["email"], "email_from")
        self.assertEqual(targets["phone_number"], "phone")
        self.assertEqual(targets["company_name"], "partner_name")
        self.assertEqual(targets["job_title"], "function")
        self.assertEqual(targets["city"], "city")
        self.assertFalse(targets["notlar"])

    def test_merge_into_the_customers_open_lead(self):
        self.form.merge_duplicates = True
        partner = self.env["res.partner"].create(
            {"name": "Ayşe Yılmaz", "email": "ayse.yilmaz@example.com"}
        )
        open_lead = self.env["crm.lead"].create(
            {
                "name": "Existing deal",
                "partner_id": partner.id,
                "type": "opportunity",
                "email_from": "ayse.yilmaz@example.com",
                "user_id": self.seller.id,
            }
        )
        sim_lead = self.submit()
        self.deliver(sim_lead)
        binding = self.env["meta.lead"].search([("leadgen_id", "=", sim_lead["id"])])
        self.assertEqual(binding.lead_id, open_lead)
        self.assertEqual(self.Lead.search_count([("partner_id", "=", partner.id)]), 1)
        self.deliver(sim_lead)
        self.assertEqual(self.Lead.search_count([("partner_id", "=", partner.id)]), 1)
        # a second submission merged into the same lead: both answer sets show
        second = self.submit(field_data=answers(notlar="ikinci başvuru"))
        self.deliver(second)
        self.assertEqual(len(open_lead.meta_lead_ids), 2)
        self.assertIn("ikinci başvuru", open_lead.meta_answers_html)
        self.assertIn("hafta içi arayın", open_lead.meta_answers_html)

    def test_archived_form_creates_no_lead(self):
        self.form.active = False
        sim_lead = self.submit()
        self.deliver(sim_lead)
        self.assertFalse(self.lead_of(sim_lead))
        event = self.Event.search([])
        self.assertEqual(event.state, "ignored")

    @mute_logger(EVENT_LOGGER, BINDING_LOGGER)
    def test_one_malformed_lead_never_blocks_the_others(self):
        good = self.submit()
        bad = self.submit()
        # what Meta answers for this lead is broken: an answer without its key
        self.simulator.store.leads[bad["id"]].field_data = [{"values": ["?"]}]
        self.deliver(bad, good)
        self.assertTrue(self.lead_of(good))
        bad_event = self.Event.search([("key", "like", bad["id"])])
        self.assertEqual(bad_event.state, "dead")
        self.assertIn("name", bad_event.last_error)

    def test_transient_graph_errors_retry_with_backoff(self):
        sim_lead = self.submit()
        self.simulator.faults.error_rate = 1.0
        self.deliver(sim_lead)
        event = self.Event.search([])
        self.assertEqual(event.state, "failed")
        self.assertFalse(self.lead_of(sim_lead))
        self.simulator.faults.reset()
        with freeze_time(fields.Datetime.now() + timedelta(minutes=5)):
            self.Event._cron_process_events()
        self.assertEqual(event.state, "done")
        self.assertTrue(self.lead_of(sim_lead))

    def test_token_error_parks_events_until_reconnection(self):
        self.simulator.invalidate_token(self.sim_page["access_token"], subcode=460)
        first, second = self.submit(), self.submit()
        self.deliver(first)
        self.assertEqual(self.connection.state, "needs_reconnect")
        calls = len(self.simulator.requests)
        self.deliver(second)
        events = self.Event.search([])
        self.assertEqual(set(events.mapped("state")), {"parked"})
        self.assertEqual(
            len(self.simulator.requests), calls, "no call with a dead token"
        )
        self.assertEqual(
            len(self.connection.activity_ids), 1, "administrators told once"
        )
        # reconnect: a new System User token gives a new Page token
        token = self.simulator.add_user_token(
            scopes=[
                "pages_show_list",
                "pages_manage_metadata",
                "pages_read_engagement",
                "leads_retrieval",
                "pages_manage_ads",
                "pages_messaging",
            ],
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
        )
        self.env["meta.connect.wizard"].create({"access_token": token}).action_connect()
        self.assertEqual(self.page.connection_id.state, "connected")
        self.assertEqual(set(events.mapped("state")), {"pending"})
        self.Event._cron_process_events()
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertTrue(self.lead_of(first) and self.lead_of(second))

    def test_reconciliation_recovers_leads_whose_webhooks_were_dropped(self):
        now = datetime.now(timezone.utc)
        delivered = [
            self.submit(created_time=now - timedelta(minutes=20 + i)) for i in range(2)
        ]
        dropped = [
            self.submit(created_time=now - timedelta(minutes=5 + i)) for i in range(3)
        ]
        self.deliver(*delivered)
        self.form.sync_watermark = fields.Datetime.now() - timedelta(minutes=30)
        self.env["meta.lead.form"]._cron_reconcile_leads()
        for sim_lead in delivered + dropped:
            self.assertTrue(self.lead_of(sim_lead), sim_lead["id"])
        recovered = self.env["meta.lead"].search([("source", "=", "reconciliation")])
        self.assertEqual(
            set(recovered.mapped("leadgen_id")), {lead["id"] for lead in dropped}
        )
        self.assertEqual(self.form.missed_webhook_count, 3)
        # recent leads found by the poll still get the salesperson's call activity
        self.assertTrue(self.lead_of(dropped[0]).activity_ids)
        # running it again creates nothing
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(
            self.Lead.search_count([("meta_form_id", "=", self.form.id)]), 5
        )

    def test_initial_backfill_imports_history_quietly(self):
        sim_form = self.simulator.add_form(self.sim_page["id"], name="Eski Form")
        self.simulator.add_leads(
            sim_form["id"],
            230,
            start=datetime.now(timezone.utc) - timedelta(days=60),
            end=datetime.now(timezone.utc) - timedelta(days=2),
        )
        self.env["meta.lead.form"]._cron_reconcile_leads()
        form = self.env["meta.lead.form"].search(
            [("meta_form_id", "=", sim_form["id"])]
        )
        self.assertEqual(form.backfill_state, "done")
        self.assertEqual(form.backfill_seen, 230)
        self.assertEqual(form.backfill_imported, 230)
        leads = self.Lead.search([("meta_form_id", "=", form.id)])
        self.assertEqual(len(leads), 230)
        self.assertFalse(leads.activity_ids, "history does not page the salespeople")
        # nor sends 230 e-mail addresses to crm's enrichment service
        self.assertIn(
            "iap_enrich_done", leads._fields, "make test-odoo installs crm_iap_enrich"
        )
        self.assertTrue(all(leads.mapped("iap_enrich_done")))
        self.assertTrue(form.sync_watermark)

    def test_sync_now_and_test_lead_actions(self):
        self.form.action_sync_now()
        self.assertTrue(self.form.sync_requested)
        admin_form = self.form.with_user(self.meta_admin)
        calls = len(self.simulator.requests)
        action = admin_form.action_send_test_lead()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(len(self.simulator.requests), calls, "queued, not sent")
        Outbox = self.env["meta.outbox"]
        first = Outbox.search([("origin_id", "=", self.form.id)])
        self.assertEqual(first.requested_by, self.meta_admin)
        Outbox._cron_process_outbox()
        self.assertEqual(first.state, "done")
        self.assertTrue(self.simulator.store.forms[self.sim_form["id"]].test_lead_id)
        # a form keeps one test lead: Meta refuses the second, and the person
        # who asked is told on the form
        admin_form.action_send_test_lead()
        Outbox._cron_process_outbox()
        second = Outbox.search([("origin_id", "=", self.form.id)]) - first
        self.assertEqual(second.state, "dead")
        refusal = self.form.message_ids.filtered(
            lambda m: "Lead Ads Testing Tool" in str(m.body)
        )
        self.assertEqual(len(refusal), 1)
        self.assertIn(self.meta_admin.partner_id, refusal.partner_ids)

    def test_first_response_is_measured(self):
        submitted = datetime.now(timezone.utc) - timedelta(minutes=10)
        sim_lead = self.submit(created_time=submitted)
        self.deliver(sim_lead)
        lead = self.lead_of(sim_lead)
        self.assertFalse(lead.meta_first_response_at)
        lead.activity_ids.with_user(self.seller).action_feedback(feedback="Aradım")
        self.assertTrue(lead.meta_first_response_at)
        self.assertAlmostEqual(lead.meta_response_minutes, 10, delta=1)

    def test_what_the_cron_writes_is_in_the_salespersons_language(self):
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            ["meta_graph_connector"], ["tr_TR"], overwrite=True
        )
        self.seller.lang = "tr_TR"
        sent = []
        Users = type(self.env["res.users"])
        real_send = Users._bus_send

        def capture(users, notification_type, message, **kwargs):
            sent.append((users, notification_type, message))
            return real_send(users, notification_type, message, **kwargs)

        sim_lead = self.submit()
        with patch.object(Users, "_bus_send", capture):
            self.deliver(sim_lead)
        lead = self.lead_of(sim_lead)
        self.assertEqual(lead.activity_ids.summary, "Yeni Meta adayını arayın")
        self.assertIn("aday formundan yeni aday", str(lead.message_ids[:1].body))
        [toast] = [m for u, t, m in sent if t == "meta_graph_connector/new_lead"]
        self.assertEqual(toast["title"], "Kış Kampanyası formundan yeni aday")
        # the toast opens the lead; it is no sticky pile-up
        self.assertEqual(toast["lead_id"], lead.id)
        self.assertNotIn("sticky", toast)
        # an English-speaking colleague gets English from the same cron run
        self.form.user_id = self.other_seller
        other = self.submit(field_data=answers(email="baska@example.com"))
        self.deliver(other)
        self.assertEqual(
            self.lead_of(other).activity_ids.summary, "Call the new Meta lead"
        )

    def test_a_turkish_form_gives_the_lead_its_language_and_country(self):
        self.env["res.lang"]._activate_lang("tr_TR")
        turkish = self.submit()
        german = self.submit(
            field_data=answers(email="hans@example.de", phone_number="+49 30 123456")
        )
        self.deliver(turkish, german)
        lead = self.lead_of(turkish)
        self.assertEqual(lead.lang_id.code, "tr_TR")
        # the form asks no country: the phone's (+90) says it
        self.assertEqual(lead.country_id, self.env.ref("base.tr"))
        self.assertEqual(lead.partner_id.lang, "tr_TR")
        self.assertEqual(lead.partner_id.country_id, self.env.ref("base.tr"))
        # a German number on a Turkish form is German
        self.assertEqual(self.lead_of(german).country_id, self.env.ref("base.de"))

    def test_the_turkish_city_answer_is_the_province(self):
        sim_form = self.simulator.add_form(
            self.sim_page["id"],
            name="İlçeli Form",
            questions=[
                *QUESTIONS,
                {"id": "9", "key": "ilce", "label": "İlçe", "type": "CUSTOM"},
            ],
        )
        self.env["meta.lead.form"]._meta_get_form(self.page, sim_form["id"]).write(
            {"user_id": self.seller.id}
        )
        istanbul = self.env.ref("base.state_tr_34")
        for typed, district, state, city in (
            ("İSTANBUL", "Kadıköy", istanbul, "Kadıköy"),
            ("istanbul", "", istanbul, "istanbul"),
            ("Istanbul", "Üsküdar", istanbul, "Üsküdar"),
            ("ŞANLIURFA", "", self.env.ref("base.state_tr_63"), "ŞANLIURFA"),
            ("Gotham", "Merkez", self.env["res.country.state"], "Gotham"),
        ):
            with self.subTest(city=typed):
                sim_lead = self.simulator.add_lead(
                    sim_form["id"],
                    field_data=answers(
                        email=f"{place_key(typed)}@example.com",
                        city=typed,
                        ilce=district,
                    ),
                )
                self.deliver(sim_lead)
                lead = self.lead_of(sim_lead)
                self.assertEqual(lead.state_id, state)
                self.assertEqual(lead.city, city)

    def test_a_test_lead_is_marked_and_makes_no_customer(self):
        # a real customer already has the placeholder address Meta uses
        self.env["res.partner"].create({"name": "Biri", "email": "test@fb.com"})
        self.form.with_user(self.meta_admin).action_send_test_lead()
        self.env["meta.outbox"]._cron_process_outbox()
        store = self.simulator.store
        sim_lead = self.simulator.lead_dict(
            store.leads[store.forms[self.sim_form["id"]].test_lead_id]
        )
        partners = self.env["res.partner"].search_count([])
        self.deliver(sim_lead)
        lead = self.lead_of(sim_lead)
        self.assertTrue(lead.meta_is_test)
        self.assertIn(
            self.env.ref("meta_graph_connector.crm_tag_meta_test_lead"), lead.tag_ids
        )
        self.assertFalse(lead.partner_id)
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        self.assertNotIn("dummy data", lead.name)
        # found by the search filter, to clear them at once
        self.assertEqual(
            self.env["crm.lead"].search([("meta_is_test", "=", True)]), lead
        )

    def test_unanswered_leads_are_not_averaged_as_instant(self):
        submitted = datetime.now(timezone.utc) - timedelta(minutes=10)
        answered, unanswered = (
            self.submit(created_time=submitted),
            self.submit(
                created_time=submitted, field_data=answers(email="baska@example.com")
            ),
        )
        self.deliver(answered)
        self.deliver(unanswered)
        lead = self.lead_of(answered)
        lead.activity_ids.with_user(self.seller).action_feedback(feedback="Aradım")
        leads = lead | self.lead_of(unanswered)
        # a lead created outside Meta has no speed to lead either
        leads |= self.env["crm.lead"].create({"name": "Telefonla gelen"})
        [(response, speed)] = self.env["crm.lead"]._read_group(
            [("id", "in", leads.ids)],
            aggregates=["meta_response_minutes:avg", "meta_speed_to_lead:avg"],
        )
        # only the answered lead counts: ~10 minutes, not ~5
        self.assertAlmostEqual(response, 10, delta=1)
        # only the two Meta leads count: their speed, not a third of it
        meta_speed = sum(
            self.lead_of(x).meta_speed_to_lead for x in (answered, unanswered)
        )
        self.assertAlmostEqual(speed, meta_speed / 2, delta=0.01)

    def test_salesperson_sees_only_what_crm_lets_them(self):
        mine = self.submit()
        theirs = self.submit(field_data=answers(email="other@example.com"))
        self.deliver(mine)
        self.form.user_id = self.other_seller
        self.deliver(theirs)
        my_lead, their_lead = self.lead_of(mine), self.lead_of(theirs)
        Lead = self.env["crm.lead"].with_user(self.seller)
        # crm's own "personal leads" rule applies to Meta leads too
        visible = Lead.search([("meta_form_id", "=", self.form.id)])
        self.assertEqual(visible, my_lead)
        self.assertIn("Notlarınız", my_lead.with_user(self.seller).meta_answers_html)
        with self.assertRaises(AccessError):
            their_lead.with_user(self.seller).read(["meta_answers_html"])
        with self.assertRaises(AccessError):
            self.env["meta.lead"].with_user(self.seller).search([])


@tagged("post_install", "-at_install")
class TestLeadBacklog(LeadAdsMixin, MetaTransactionCase):
    """A backlog of submissions (a burst, lanes back after a pause) is read
    in one Graph batch request and made in one claim; each lead keeps its
    own outcome."""

    def test_a_backlog_is_read_in_one_batch_and_made_in_one_claim(self):
        leads = [self.submit() for _i in range(5)]
        before = len(self.simulator.requests)
        self.deliver(*leads)
        calls = self.simulator.requests[before:]
        reads = [r for r in calls if any(lead["id"] in r.path for lead in leads)]
        self.assertEqual(len(reads), 5)
        self.assertTrue(all(r.in_batch for r in reads), "one batch request")
        self.assertEqual(len([r for r in calls if not r.in_batch]), 1)
        for lead in leads:
            crm_lead = self.lead_of(lead)
            self.assertTrue(crm_lead)
            event = self.Event.search([("key", "like", lead["id"])])
            self.assertEqual((event.state, event.res_id), ("done", crm_lead.id))
            self.assertEqual(event.partner_id, crm_lead.partner_id)
            self.assertEqual(crm_lead.activity_ids.user_id, self.seller)

    @mute_logger(EVENT_LOGGER)
    def test_a_lead_meta_refuses_in_a_backlog_fails_alone(self):
        leads = [self.submit() for _i in range(4)]
        refused = leads[1]
        self.simulator.faults.fail_calls(refused["id"], kind="permission")
        self.deliver(*leads)
        event = self.Event.search([("key", "like", refused["id"])])
        self.assertEqual(event.state, "dead")
        self.assertIn("200", event.last_error)
        self.assertFalse(self.lead_of(refused))
        self.assertEqual(self.connection.state, "connected")
        for lead in leads[:1] + leads[2:]:
            self.assertTrue(self.lead_of(lead))

    @mute_logger(EVENT_LOGGER)
    def test_a_rate_limit_on_one_lead_of_a_backlog_waits_without_blame(self):
        leads = [self.submit() for _i in range(3)]
        self.simulator.faults.fail_calls(leads[2]["id"], kind="throttle", code=80005)
        self.deliver(*leads)
        event = self.Event.search([("key", "like", leads[2]["id"])])
        self.assertEqual((event.state, event.attempts), ("failed", 0))
        self.assertTrue(self.connection.throttled_until)
        self.assertTrue(self.lead_of(leads[0]) and self.lead_of(leads[1]))


@tagged("post_install", "-at_install")
class TestMatchKeys(LeadAdsMixin, MetaTransactionCase):
    """The keys a lead is matched with are made by the functions that made
    the partner columns they are compared with: both sides agree."""

    def _lead(self, **answers_):
        from ..graph.leads import normalize_lead

        return normalize_lead(
            {"id": "900000000055555", "field_data": answers(**answers_)},
            self.form.questions,
            default_region="TR",
        )

    def test_email_keys_agree_with_email_normalized(self):
        spellings = [
            "ayse.yilmaz@example.com",
            "AYSE.YILMAZ@EXAMPLE.COM",
            " Ayse.Yilmaz@Example.Com ",
            "İBRAHİM@EXAMPLE.COM",
            "ılgın.çağrı@örnek.com.tr",
            "Çağrı@Example.com",
            "e:ayse@example.com",
        ]
        for spelling in spellings:
            with self.subTest(email=spelling):
                partner = self.env["res.partner"].create(
                    {"name": "Kişi", "email": spelling.removeprefix("e:").strip()}
                )
                key, _phone = self.env["meta.lead.mapper"]._meta_match_keys(
                    self.form, self._lead(email=spelling, phone_number="")
                )
                self.assertTrue(key)
                self.assertEqual(key, partner.email_normalized)

    def test_phone_keys_agree_with_phone_sanitized(self):
        tr = self.env.ref("base.tr")
        # spellings Odoo itself reads: the same spelling on both sides
        for spelling in (
            "0532 123 45 67",
            "+90 532 123 45 67",
            "(0532) 123-45-67",
            "0090 532 123 4567",
            "+90-532-123-45-67",
            "05321234567",
        ):
            with self.subTest(phone=spelling):
                partner = self.env["res.partner"].create(
                    {"name": "Kişi", "phone": spelling, "country_id": tr.id}
                )
                _email, key = self.env["meta.lead.mapper"]._meta_match_keys(
                    self.form, self._lead(email="", phone_number=spelling)
                )
                self.assertEqual(key, partner.phone_sanitized)
                self.assertEqual(key, "+905321234567")
        # spellings only people type ("90 …", "p:+90…", no prefix at all):
        # the core reads them, Odoo's function makes the key
        canonical = self.env["res.partner"].create(
            {"name": "Kişi", "phone": "0532 123 45 67", "country_id": tr.id}
        )
        for spelling in ("90 532 123 45 67", "5321234567", "p:+905321234567"):
            with self.subTest(phone=spelling):
                _email, key = self.env["meta.lead.mapper"]._meta_match_keys(
                    self.form, self._lead(email="", phone_number=spelling)
                )
                self.assertEqual(key, canonical.phone_sanitized)
