import threading
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.meta_graph_connector.graph import social
from odoo.addons.meta_graph_connector.graph.errors import TransientError
from odoo.addons.meta_graph_connector.graph.webhook import parse_delivery
from odoo.addons.meta_graph_connector.tests.common import (
    PAGE_SCOPES,
    MetaCase,
    MetaTransactionCase,
)

from meta_simulator import payloads

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
T0 = 1795000000  # 2026-11-16, seconds


@tagged("post_install", "-at_install")
class TestSocialComments(MetaTransactionCase):
    """Comments of Pages and Instagram accounts on the customer card and
    the lead, from the webhooks Meta sends (the simulator's payloads)."""

    def setUp(self):
        super().setUp()
        self.Event = self.env["meta.webhook.event"]
        self.Comment = self.env["meta.social.comment"]
        self.page_id = self.sim_page["id"]
        self.post_id = f"{self.page_id}_5555"

    def deliver(self, *changes):
        """Store a delivery as the webhook controller does, then run the
        lane as its cron does."""
        deliveries = [parse_delivery(change) for change in changes]
        ids = self.Event._meta_store_events(
            [e for events in deliveries for e in events]
        )
        self.Event._cron_process_events()
        return self.Event.browse(ids)

    def fb(self, comment_id="5555_1", verb="add", at=T0, **kwargs):
        kwargs.setdefault("from_id", "7001")
        kwargs.setdefault("from_name", "Ayşe Yılmaz")
        return payloads.feed_comment(
            self.page_id,
            verb=verb,
            comment_id=comment_id,
            post_id=self.post_id,
            created_time=at,
            **kwargs,
        )

    def notes(self, partner):
        subtype = self.env.ref("meta_graph_connector.mt_meta_social_partner")
        return partner.message_ids.filtered(lambda m: m.subtype_id == subtype)

    def comment(self, ref="5555_1"):
        return self.Comment.search([("comment_ref", "=", ref)])

    # ------------------------------------------------------------ in

    def test_a_comment_lands_once_on_a_new_customer_with_a_note(self):
        lead = self.env["crm.lead"].create({"name": "Koltuk takımı"})
        events = self.deliver(
            self.fb(message="Fiyat nedir?"), self.fb(message="Fiyat nedir?")
        )
        self.assertEqual(len(events), 1, "the redelivery is the same event")
        comment = self.comment()
        self.assertEqual(len(comment), 1)
        self.assertEqual(comment.text, "Fiyat nedir?")
        self.assertEqual(comment.author, "Ayşe Yılmaz")
        self.assertEqual(comment.state, "visible")
        self.assertEqual(
            comment.url,
            f"https://www.facebook.com/{self.page_id}/posts/5555?comment_id=1",
        )
        partner = comment.partner_id
        self.assertEqual(partner.name, "Ayşe Yılmaz")
        self.assertEqual(partner.meta_origin, "facebook")
        self.assertEqual(comment.contact_id.scoped_id, "7001")
        self.assertTrue(partner.meta_last_social_at)
        self.assertEqual(partner.meta_social_comment_count, 1)
        note = partner.message_ids.filtered(
            lambda m: (
                m.subtype_id
                == self.env.ref("meta_graph_connector.mt_meta_social_partner")
            )
        )
        self.assertEqual(len(note), 1)
        self.assertIn("Fiyat nedir?", note.body)
        self.assertFalse(lead.meta_social_comment_ids, "not this person's lead")
        # the same person again: the same contact and partner, now on their lead
        lead.partner_id = partner
        self.deliver(self.fb("5555_2", message="Rengi var mı?", at=T0 + 60))
        second = self.comment("5555_2")
        self.assertEqual(second.partner_id, partner)
        self.assertEqual(second.lead_id, lead)
        self.assertEqual(lead.meta_social_comment_count, 1)
        self.assertEqual(
            len(self.env["meta.social.contact"].search([("scoped_id", "=", "7001")])), 1
        )
        lead_note = lead.message_ids.filtered(
            lambda m: (
                m.subtype_id == self.env.ref("meta_graph_connector.mt_meta_social_lead")
            )
        )
        self.assertIn("Rengi var mı?", lead_note.body)

    def test_comments_on_a_known_post_leave_its_row_alone(self):
        """Every comment names its post: rewriting the post's row each time
        made two workers on one busy post fail each other (serialization)."""
        self.deliver(self.fb(message="İlk"))
        post = self.comment().post_id
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT ctid FROM meta_social_post WHERE id = %s", [post.id]
        )
        before = self.env.cr.fetchone()[0]
        self.env.invalidate_all()  # the next event runs in a new transaction
        self.deliver(self.fb("5555_2", message="İkinci", from_id="7002", at=T0 + 5))
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT ctid FROM meta_social_post WHERE id = %s", [post.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], before, "the row was not rewritten")
        self.assertEqual(self.comment("5555_2").post_id, post)

    def test_the_note_speaks_the_salespersons_language(self):
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            ["meta_graph_connector"], ["tr_TR"], overwrite=True
        )
        self.salesman.lang = "tr_TR"
        self.deliver(self.fb(message="İlk"))
        partner = self.comment().partner_id
        lead = self.env["crm.lead"].create(
            {"name": "Koltuk", "partner_id": partner.id, "user_id": self.salesman.id}
        )
        self.deliver(self.fb("5555_2", message="İkinci", at=T0 + 60))
        note = lead.message_ids.filtered(
            lambda m: (
                m.subtype_id == self.env.ref("meta_graph_connector.mt_meta_social_lead")
            )
        )
        self.assertIn("Yorum", note.body)
        self.assertIn(">Aç<", note.body)

    def test_meta_text_is_escaped_everywhere(self):
        self.deliver(self.fb(message=XSS, from_name=f"Eve {XSS}"))
        comment = self.comment()
        self.assertEqual(comment.text, XSS, "kept as the person wrote it, as text")
        body = self.notes(comment.partner_id).body
        self.assertNotIn("<script>", body)
        self.assertNotIn("<img", body)
        self.assertIn("&lt;script&gt;", body)
        self.assertNotIn("<script>", comment._meta_note_body())

    def test_boosted_post_doubles_land_once(self):
        organic = self.fb(message="Kampanya ne zaman bitiyor?")
        boosted = self.fb(message="Kampanya ne zaman bitiyor?")
        boosted["entry"][0]["changes"][0]["value"]["ad_id"] = "120000000000777"
        self.deliver(organic, boosted)
        comment = self.comment()
        self.assertEqual(len(comment), 1)
        self.assertEqual(len(self.notes(comment.partner_id)), 1)

    def test_edits_and_removals_out_of_order_end_in_the_right_state(self):
        # the removal arrives first, then the comment, then an older edit
        self.deliver(self.fb(verb="remove", at=T0 + 120))
        self.deliver(self.fb(message="Numaram 0532 111 22 33", at=T0))
        self.deliver(self.fb(verb="edited", message="Numaram yok", at=T0 + 60))
        comment = self.comment()
        self.assertEqual(comment.state, "removed")
        self.assertFalse(comment.text, "a removed comment's words are not kept")
        self.assertFalse(
            self.notes(comment.partner_id),
            "nothing announced of a comment already removed",
        )
        # an edit arriving before its comment: the edit's text stays
        self.deliver(
            self.fb("5555_9", verb="edited", message="İkinci hali", at=T0 + 60)
        )
        self.deliver(self.fb("5555_9", message="İlk hali", at=T0))
        edited = self.comment("5555_9")
        self.assertEqual((edited.text, edited.edited), ("İkinci hali", True))
        # hide then unhide, delivered the other way round
        self.deliver(self.fb("5555_9", verb="unhide", at=T0 + 300))
        self.deliver(self.fb("5555_9", verb="hide", at=T0 + 200))
        self.assertEqual(edited.state, "visible")

    def assert_no_words(self, words):
        """``words`` are nowhere: comments, notes and their tracking, leads,
        the stored webhook events."""
        self.env.flush_all()
        self.assertFalse(self.Comment.search([("text", "ilike", words)]))
        self.assertFalse(
            self.env["mail.message"].search([("body", "ilike", words)]), "notes"
        )
        self.assertFalse(
            self.env["mail.tracking.value"].search(
                [
                    "|",
                    ("old_value_char", "ilike", words),
                    ("new_value_char", "ilike", words),
                ]
            )
        )
        self.assertFalse(
            self.env["crm.lead"].search(
                ["|", ("name", "ilike", words), ("description", "ilike", words)]
            )
        )
        self.env.cr.execute(
            "SELECT count(*) FROM meta_webhook_event WHERE payload::text ILIKE %s",
            [f"%{words}%"],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "webhook events")

    def test_a_removed_comment_leaves_no_words_in_its_notes_or_lead(self):
        self.deliver(self.fb("5555_0", message="Merhaba", at=T0 - 60))
        partner = self.comment("5555_0").partner_id
        lead = self.env["crm.lead"].create(
            {"name": "Koltuk", "partner_id": partner.id, "user_id": self.salesman.id}
        )
        self.deliver(self.fb(message="Numaram 0532 111 22 33", at=T0))
        self.assertIn("0532", self.notes(partner)[0].body, "announced first")
        self.assertEqual(self.comment().lead_id, lead)
        self.assertEqual(len(self.comment().note_ids), 2, "on the card and the lead")
        # someone else's comment a salesperson made a lead of
        self.deliver(
            self.fb("5555_7", message="Adresim Moda Caddesi 12", from_id="7002", at=T0)
        )
        other = self.comment("5555_7")
        other.action_create_lead()
        self.assertIn("Moda Caddesi", other.lead_id.name)
        # both take their comments back
        self.deliver(
            self.fb(verb="remove", at=T0 + 120),
            self.fb("5555_7", verb="remove", from_id="7002", at=T0 + 120),
        )
        self.assertEqual(self.comment().state, "removed")
        self.assert_no_words("0532")
        self.assert_no_words("Moda Caddesi")
        note = self.notes(partner)[0]
        self.assertTrue(note.meta_erased)
        self.assertIn("removed", note.body)
        self.assertIn("Merhaba", self.notes(partner)[-1].body, "the other note stays")
        self.assertTrue(other.lead_id.exists(), "the lead stays, without the words")

    def test_a_removal_before_its_comment_leaves_no_words_anywhere(self):
        self.deliver(self.fb(verb="remove", at=T0 + 120))
        self.deliver(self.fb(message="Numaram 0532 111 22 33", at=T0))
        self.deliver(self.fb(verb="edited", message="Numaram 0532 000", at=T0 + 60))
        self.assertEqual(self.comment().state, "removed")
        self.assert_no_words("0532")
        # replayed, its stored events end in the same state
        events = self.Event.search([("kind", "=", "page_comment")])
        events.write({"state": "pending"})
        self.Event._cron_process_events()
        self.assertEqual(self.comment().state, "removed")
        self.assert_no_words("0532")

    def test_the_card_note_speaks_its_readers_language(self):
        """No lead yet: the card's note speaks its salesperson's language,
        else the company's, never the cron's English."""
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            ["meta_graph_connector"], ["tr_TR"], overwrite=True
        )
        self.salesman.lang = "tr_TR"
        self.deliver(self.fb("5555_0", message="İlk", at=T0 - 60))
        partner = self.comment("5555_0").partner_id
        partner.user_id = self.salesman
        self.deliver(self.fb(message="İkinci", at=T0))
        note = self.notes(partner).filtered(lambda m: "İkinci" in m.body)
        self.assertIn("Yorum", note.body)
        self.assertIn(">Aç<", note.body)
        # nobody's: the company's language
        self.env.company.partner_id.lang = "tr_TR"
        self.deliver(self.fb("5555_3", message="Üçüncü", from_id="7003", at=T0))
        note = self.notes(self.comment("5555_3").partner_id)
        self.assertIn("Yorum", note.body)

    def test_a_post_is_shown_by_what_it_says(self):
        self.connection.granted_scopes = ",".join(PAGE_SCOPES)
        post = self.simulator.add_post(
            self.page_id, message="Kış indirimi: köşe koltuklarda %20"
        )

        def on_post(comment_id, **kwargs):
            return payloads.feed_comment(
                self.page_id,
                comment_id=comment_id,
                post_id=post["id"],
                from_id="7001",
                created_time=T0,
                **kwargs,
            )

        self.deliver(on_post("9_1", message="Hangi renkler var?"))
        shown = self.comment("9_1").post_id
        self.assertEqual(shown.display_name, "Kış indirimi: köşe koltuklarda %20")
        self.assertTrue(shown.posted_at)
        self.assertTrue(shown.url.startswith("https://"))
        reads = [r for r in self.simulator.requests if r.path.endswith(post["id"])]
        self.assertEqual(len(reads), 1)
        self.deliver(on_post("9_2", message="Teslimat?"))
        self.assertEqual(self.comment("9_2").post_id, shown)
        self.assertEqual(
            len([r for r in self.simulator.requests if r.path.endswith(post["id"])]),
            1,
            "read once, when first seen",
        )
        # a post Meta does not give: the comment lands, the connection is fine
        self.deliver(self.fb("5555_1", message="Fiyat?"))
        unknown = self.comment("5555_1")
        self.assertEqual(unknown.text, "Fiyat?")
        self.assertNotIn("5555", unknown.post_id.display_name)
        self.assertEqual(self.connection.state, "connected")

    def test_replies_keep_their_parent_and_the_page_is_no_customer(self):
        self.deliver(self.fb(message="Kargo ücretsiz mi?"))
        self.deliver(
            self.fb(
                "5555_2",
                parent_id="5555_1",
                from_id=self.page_id,
                from_name="Anadolu Mobilya",
                message="Evet, ücretsiz.",
                at=T0 + 30,
            )
        )
        parent, reply = self.comment("5555_1"), self.comment("5555_2")
        self.assertEqual(reply.parent_id, parent)
        # a reply delivered before the comment it answers finds it later
        self.deliver(
            self.fb("5555_4", parent_id="5555_3", message="Ben de", at=T0 + 90)
        )
        self.assertFalse(self.comment("5555_4").parent_id)
        self.deliver(self.fb("5555_3", message="Renk seçenekleri?", at=T0 + 60))
        self.assertEqual(self.comment("5555_4").parent_id, self.comment("5555_3"))
        self.assertEqual(reply.kind, "reply")
        self.assertTrue(reply.from_account)
        self.assertFalse(reply.partner_id)
        self.assertFalse(reply.contact_id)
        self.assertFalse(
            self.env["res.partner"].search([("name", "=", "Anadolu Mobilya")])
        )

    def test_an_instagram_comment_and_its_ad_double(self):
        ig = self.sim_page["ig_account_id"]
        args = (ig, "17890000000000001", "Stokta var mı?", "IGSID_9", "ayse.y", "1790")
        self.deliver(
            payloads.instagram_comment(*args, time=T0),
            payloads.instagram_comment(*args, ad_id="120000000000001", time=T0),
        )
        comment = self.comment("17890000000000001")
        self.assertEqual(len(comment), 1)
        self.assertEqual(comment.platform, "instagram")
        self.assertEqual(comment.author, "@ayse.y")
        self.assertEqual(comment.partner_id.meta_origin, "instagram")
        self.assertEqual(comment.asset_id, self.instagram)

    # ------------------------------------------------------------ rights

    def test_a_salesperson_sees_comments_where_crm_lets_them(self):
        other = new_test_user(
            self.env,
            login="other_salesman",
            groups="sales_team.group_sale_salesman",
            name="Other Seller",
        )
        self.deliver(self.fb(message="Merhaba"))
        comment = self.comment()
        as_salesman = self.Comment.with_user(self.salesman)
        self.assertEqual(as_salesman.search([]), comment, "no lead: everybody sees it")
        lead = self.env["crm.lead"].create(
            {"name": "Koltuk", "partner_id": comment.partner_id.id, "user_id": other.id}
        )
        comment.lead_id = lead
        self.assertFalse(as_salesman.search([]), "another seller's lead")
        with self.assertRaises(AccessError):
            comment.with_user(self.salesman).read(["text"])
        with self.assertRaises(AccessError):
            comment.with_user(self.salesman)._meta_reply("Merhaba")
        # nobody edits what a customer wrote, not even their own seller
        lead.user_id = self.salesman
        with self.assertRaises(AccessError):
            comment.with_user(self.salesman).write({"text": "başka"})
        portal = new_test_user(
            self.env, login="portal_meta", groups="base.group_portal"
        )
        for model in ("meta.social.comment", "meta.social.contact", "meta.social.post"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(portal).search([])
        # salespeople read contacts, they do not make nor delete them
        contact = comment.contact_id.with_user(self.salesman)
        self.assertEqual(contact.partner_id, comment.partner_id)
        with self.assertRaises(AccessError):
            contact.unlink()
        with self.assertRaises(AccessError):
            contact.write({"scoped_id": "başka"})

    def test_the_pipeline_social_filter_finds_who_commented_this_week(self):
        self.deliver(self.fb(message="Merhaba", at=int(time.time()) - 3600))
        partner = self.comment().partner_id
        recent = self.env["crm.lead"].create({"name": "Yeni", "partner_id": partner.id})
        self.env["crm.lead"].create({"name": "Sessiz"})
        view = self.env.ref("meta_graph_connector.view_crm_case_leads_filter_social")
        self.assertIn("meta_social_recent", view.arch)
        week_ago = fields.Datetime.subtract(fields.Datetime.now(), days=7)
        found = self.env["crm.lead"].search([("meta_last_social_at", ">=", week_ago)])
        self.assertEqual(found, recent)

    def test_companies_see_their_own_comments(self):
        other_company = self.env["res.company"].create({"name": "Ege Şube"})
        # the connection and its Page move together (one by one, each write
        # would be refused as mixing companies)
        self.env.cr.execute(
            "UPDATE meta_connection SET company_id = %s WHERE id = %s",
            [other_company.id, self.connection.id],
        )
        self.env.cr.execute(
            "UPDATE meta_asset SET company_id = %s WHERE id IN %s",
            [other_company.id, (self.page.id, self.instagram.id)],
        )
        self.env.invalidate_all()
        self.deliver(self.fb(message="Şubeniz nerede?"))
        comment = self.comment()
        self.assertEqual(comment.company_id, other_company)
        user = new_test_user(
            self.env,
            login="main_company_seller",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=self.env.company.id,
            company_ids=[(6, 0, self.env.company.ids)],
        )
        self.assertFalse(self.Comment.with_user(user).search([]))

    def test_actions_need_meta_permissions_and_the_right_group(self):
        self.deliver(self.fb(message="Fiyat?"))
        comment = self.comment()
        # the connection was not granted pages_manage_engagement
        with self.assertRaisesRegex(UserError, "pages_manage_engagement"):
            comment.with_user(self.salesman)._meta_reply("Merhaba")
        self.connection.granted_scopes = ",".join(
            [*PAGE_SCOPES, "pages_manage_engagement"]
        )
        with self.assertRaisesRegex(UserError, "administrators"):
            comment.with_user(self.salesman).action_hide()
        with self.assertRaisesRegex(UserError, "first"):
            comment.with_user(self.salesman)._meta_reply("   ")
        self.assertFalse(
            self.env["meta.outbox"].search([("operation", "like", "comment_%")])
        )

    def test_answering_a_comment_is_refused_as_a_conversation_is(self):
        # one check for every answer: a user who may read a comment but does
        # not sell is refused access, as in a conversation, and so is a
        # salesperson who would moderate
        self.deliver(self.fb(message="Fiyat?"))
        comment = self.comment()
        self.connection.granted_scopes = ",".join(
            [*PAGE_SCOPES, "pages_manage_engagement"]
        )
        viewer = new_test_user(
            self.env,
            login="meta_viewer",
            groups="meta_graph_connector.group_meta_user",
            name="İzleyici",
        )
        self.assertEqual(self.Comment.with_user(viewer).search([]), comment)
        with self.assertRaisesRegex(AccessError, "salespeople"):
            comment.with_user(viewer)._meta_reply("Merhaba")
        with self.assertRaisesRegex(AccessError, "administrators"):
            comment.with_user(self.salesman).action_hide()
        self.assertFalse(
            self.env["meta.outbox"].search([("operation", "like", "comment_%")])
        )


@tagged("post_install", "-at_install")
class TestSocialCommentsTour(MetaCase, HttpCase):
    def test_a_turkish_salesperson_reads_a_hostile_comment_as_text(self):
        self.speak_turkish(self.salesman)
        page_id = self.sim_page["id"]
        name = '<b class="o_meta_injected">Eve</b>'
        text = (
            "<script>window.__metaXss = 1</script>"
            '<img src=x onerror="window.__metaXss = 1">'
        )
        # the customer first, with their lead; then their comment arrives
        first = payloads.feed_comment(
            page_id,
            comment_id="5555_0",
            post_id=f"{page_id}_5555",
            from_id="7002",
            from_name=name,
            message="Merhaba",
            created_time=T0,
        )
        events = self.env["meta.webhook.event"]
        events._meta_store_events(parse_delivery(first))
        events._cron_process_events()
        partner = self.env["meta.social.comment"].search([]).partner_id
        lead = self.env["crm.lead"].create(
            {
                "name": "Koltuk takımı",
                "type": "opportunity",
                "partner_id": partner.id,
                "user_id": self.salesman.id,
            }
        )
        hostile = payloads.feed_comment(
            page_id,
            comment_id="5555_1",
            post_id=f"{page_id}_5555",
            from_id="7002",
            from_name=name,
            message=text,
            created_time=T0 + 60,
        )
        events._meta_store_events(parse_delivery(hostile))
        events._cron_process_events()
        self.assertEqual(lead.meta_social_comment_count, 1)
        self.start_tour(
            f"/odoo/crm/{lead.id}",
            "meta_graph_connector_social_comments",
            login="meta_salesman",
        )


@tagged("post_install", "-at_install")
class TestSocialCommentsMerge(MetaTransactionCase):
    def test_merging_partners_keeps_every_link(self):
        Event = self.env["meta.webhook.event"]
        page_id = self.sim_page["id"]
        for index, (from_id, at) in enumerate((("7101", T0), ("7102", T0 + 3600))):
            Event._meta_store_events(
                parse_delivery(
                    payloads.feed_comment(
                        page_id,
                        comment_id=f"5555_{index}",
                        post_id=f"{page_id}_5555",
                        from_id=from_id,
                        from_name="Ayşe Yılmaz",
                        created_time=at,
                    )
                )
            )
        Event._cron_process_events()
        comments = self.env["meta.social.comment"].search([], order="comment_ref")
        older, newer = comments.partner_id.sorted("meta_last_social_at")
        self.assertNotEqual(older, newer)
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((older | newer).ids, dst_partner=older)
        self.assertFalse(newer.exists())
        self.assertEqual(comments.partner_id, older)
        self.assertEqual(
            self.env["meta.social.contact"].search([]).partner_id, older, "both ids"
        )
        self.assertEqual(older.meta_social_comment_count, 2)
        self.assertEqual(older.meta_last_social_at, comments[1].posted_at)
        # the merged person comments again: their contact finds the partner kept
        Event._meta_store_events(
            parse_delivery(
                payloads.feed_comment(
                    page_id,
                    comment_id="5555_9",
                    post_id=f"{page_id}_5555",
                    from_id="7102",
                    created_time=T0 + 7200,
                )
            )
        )
        Event._cron_process_events()
        self.assertEqual(
            self.env["meta.social.comment"]
            .search([("comment_ref", "=", "5555_9")])
            .partner_id,
            older,
        )

    def test_an_erased_person_takes_their_comments_and_contact_along(self):
        Event = self.env["meta.webhook.event"]
        page_id = self.sim_page["id"]
        Event._meta_store_events(
            parse_delivery(
                payloads.feed_comment(
                    page_id,
                    comment_id="5555_1",
                    post_id=f"{page_id}_5555",
                    from_id="7201",
                    message="Adresim Kadıköy",
                    created_time=T0,
                )
            )
        )
        Event._cron_process_events()
        comment = self.env["meta.social.comment"].search([])
        comment.partner_id.unlink()
        self.assertFalse(comment.exists())
        self.assertFalse(self.env["meta.social.contact"].search([]))


@tagged("post_install", "-at_install")
class TestSocialCommentsAtMeta(MetaTransactionCase):
    """Replies, private replies, moderation and the history import against
    the simulator's posts and comments: what Meta received is asserted."""

    def setUp(self):
        super().setUp()
        token = self.simulator.add_user_token(
            scopes=[
                *PAGE_SCOPES,
                "pages_manage_engagement",
                "instagram_basic",
                "instagram_manage_comments",
            ],
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
        )
        self.connection.sudo().access_token = token
        self.page.sudo().access_token = self.simulator.page_token(
            token, self.sim_page["id"]
        )
        self.connection.granted_scopes = ",".join(
            [
                *PAGE_SCOPES,
                "pages_manage_engagement",
                "instagram_basic",
                "instagram_manage_comments",
            ]
        )
        self.post = self.simulator.add_post(self.sim_page["id"], message="Yeni koltuk")
        self.sim_comment = self.simulator.add_comment(
            self.post["id"],
            "Fiyat nedir?",
            from_id="7301",
            from_name="Ayşe Yılmaz",
            deliver=False,
        )
        # the comment as its webhook brings it
        Event = self.env["meta.webhook.event"]
        Event._meta_store_events(
            parse_delivery(
                payloads.feed_comment(
                    self.sim_page["id"],
                    comment_id=self.sim_comment["id"],
                    post_id=self.post["id"],
                    from_id="7301",
                    from_name="Ayşe Yılmaz",
                    message="Fiyat nedir?",
                )
            )
        )
        Event._cron_process_events()
        self.comment = self.env["meta.social.comment"].search(
            [("comment_ref", "=", self.sim_comment["id"])]
        )
        self.comment.lead_id = self.env["crm.lead"].create(
            {
                "name": "Koltuk",
                "partner_id": self.comment.partner_id.id,
                "user_id": self.salesman.id,
            }
        )

    def calls(self, method, fragment):
        return [
            r
            for r in self.simulator.requests
            if r.method == method and fragment in r.path
        ]

    def test_a_public_reply_reaches_meta_once(self):
        reply = self.comment.with_user(self.salesman)._meta_reply("Merhaba, 12.000 TL")
        self.assertEqual(reply.meta_state, "queued")
        self.send_outbox()
        self.send_outbox()
        [call] = self.calls("POST", f"{self.sim_comment['id']}/comments")
        self.assertEqual(call.params["message"], "Merhaba, 12.000 TL")
        self.assertEqual(reply.meta_state, "sent")
        self.assertTrue(reply.comment_ref)
        self.assertIn(
            reply.comment_ref, self.simulator.comment(self.sim_comment["id"])["replies"]
        )
        self.assertEqual(reply.parent_id, self.comment)
        self.assertTrue(reply.from_account)

    def test_one_private_reply_per_comment(self):
        self.comment.with_user(self.salesman)._meta_private_reply("Detayları yazdık")
        with self.assertRaisesRegex(UserError, "already"):
            self.comment.with_user(self.salesman)._meta_private_reply("Bir daha")
        self.send_outbox()
        self.assertEqual(self.comment.private_reply_state, "sent")
        [call] = self.calls("POST", "/messages")
        self.assertEqual(
            call.json_param("recipient"), {"comment_id": self.sim_comment["id"]}
        )
        self.assertEqual(len(self.simulator.private_replies(self.sim_comment["id"])), 1)
        with self.assertRaisesRegex(UserError, "already"):
            self.comment.with_user(self.salesman)._meta_private_reply("Bir daha")
        self.assertEqual(len(self.calls("POST", "/messages")), 1, "refused before Meta")

    def test_meta_refusing_a_private_reply_is_said_in_words(self):
        # someone answered it privately in Meta Business Suite meanwhile
        self.simulator.private_reply(self.sim_comment["id"], "Başka araçtan")
        self.comment.with_user(self.salesman)._meta_private_reply("Detaylar")
        self.send_outbox()
        self.assertEqual(self.comment.private_reply_state, "failed")
        self.assertIn("10900", self.comment.private_reply_error)
        self.assertIn("already sent", self.comment.private_reply_error)

    def test_hide_then_show_again_and_delete_our_reply(self):
        self.comment.with_user(self.meta_admin).action_hide()
        self.send_outbox()
        self.assertEqual(self.comment.state, "hidden")
        self.assertTrue(self.simulator.comment(self.sim_comment["id"])["hidden"])
        self.comment.with_user(self.meta_admin).action_unhide()
        self.send_outbox()
        self.assertEqual(self.comment.state, "visible")
        reply = self.comment.with_user(self.meta_admin)._meta_reply("Teşekkürler")
        self.send_outbox()
        with self.assertRaisesRegex(UserError, "own replies"):
            self.comment.with_user(self.meta_admin).action_delete_at_meta()
        reply.with_user(self.meta_admin).action_delete_at_meta()
        self.send_outbox()
        self.assertEqual(reply.state, "removed")
        self.assertTrue(self.simulator.comment(reply.comment_ref)["deleted"])

    def test_create_a_lead_from_a_comment(self):
        self.comment.lead_id = False
        action = self.comment.with_user(self.salesman).action_create_lead()
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(lead.partner_id, self.comment.partner_id)
        self.assertEqual(self.comment.lead_id, lead)
        self.assertIn("Fiyat nedir?", lead.description)
        self.assertEqual(lead.source_id, self.env.ref("utm.utm_source_facebook"))
        self.assertEqual(
            lead.medium_id,
            self.env.ref("meta_graph_connector.utm_medium_organic_social"),
        )
        self.assertEqual(lead.meta_platform, "facebook")
        self.assertTrue(lead.meta_is_organic)
        self.assertEqual(lead.user_id, self.salesman, "the salesperson who made it")

    def test_a_lead_from_a_comment_on_an_ad_is_paid_social(self):
        # an ad brought the person: attributed as Lead Ads attributes its
        # leads (paid social, the ad kept), not as an organic post's comment
        self.comment.write({"lead_id": False, "ad_id": "6200"})
        action = self.comment.with_user(self.salesman).action_create_lead()
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(
            lead.medium_id,
            self.env.ref("meta_graph_connector.utm_medium_paid_social"),
        )
        self.assertEqual(lead.meta_ad_id, "6200")
        self.assertFalse(lead.meta_is_organic)
        self.assertEqual(lead.source_id, self.env.ref("utm.utm_source_facebook"))

    def test_the_recent_comments_are_imported_on_connection(self):
        old = self.simulator.add_post(
            self.sim_page["id"], message="Eski", created_time=T0 - 90 * 86400
        )
        self.simulator.add_comment(old["id"], "Çok eski", deliver=False)
        for index in range(60):
            self.simulator.add_comment(
                self.post["id"],
                f"Yorum {index}",
                from_id=str(7400 + index % 7),
                deliver=False,
            )
        self.simulator.add_comment(
            self.sim_comment["id"], "Ben de merak ettim", from_id="7499", deliver=False
        )
        self.page.comment_import_days = 30
        Import = self.env["meta.social.import"]
        # a first run stopped at once (time budget), then resumed to the end
        self.assertFalse(Import._cron_import_comments(time_budget=0))
        self.assertTrue(Import._cron_import_comments(time_budget=None, limit=500))
        self.assertEqual(self.page.comment_import_state, "done")
        comments = self.env["meta.social.comment"].search(
            [("asset_id", "=", self.page.id)]
        )
        self.assertEqual(len(comments), 62, "61 new and the one already known")
        self.assertFalse(comments.filtered(lambda c: c.text == "Çok eski"))
        reply = comments.filtered(lambda c: c.text == "Ben de merak ettim")
        self.assertEqual(reply.parent_id, self.comment)
        self.assertEqual(len(comments.contact_id), 9)
        # imported again: nothing doubles
        self.page.with_user(self.meta_admin).action_import_comments_again()
        self.assertTrue(Import._cron_import_comments(time_budget=None, limit=500))
        self.assertEqual(
            self.env["meta.social.comment"].search_count(
                [("asset_id", "=", self.page.id)]
            ),
            62,
        )

    def _import_comments_later(self, minutes):
        """Run the comment import on a clock ``minutes`` ahead."""
        Job = self.env["meta.import.job"]
        later = fields.Datetime.now() + timedelta(minutes=minutes)
        with patch.object(type(Job), "_meta_now", lambda self: later):
            return self.env["meta.social.import"]._cron_import_comments(
                time_budget=None, limit=500
            )

    def test_a_transient_failure_retries_the_comment_import(self):
        """Meta failing for a moment, beyond the client's own retries, no
        longer fails the comment import for good: it retries the page later
        and resumes where it stopped (as the conversation import did)."""
        self.simulator.add_comment(self.post["id"], "Yeni yorum", deliver=False)
        self.page.comment_import_days = 30
        self.instagram.comment_import_days = 0
        self.simulator.faults.fail_calls(
            "/comments", kind="transient", method="GET", times=4
        )
        self.env["meta.social.import"]._cron_import_comments(time_budget=None)
        self.assertEqual(self.page.comment_import_state, "running")
        self.assertTrue(self.page.comment_import_error)
        # not before its backoff ends, then to the end
        self.assertTrue(self._import_comments_later(0))
        self.assertEqual(self.page.comment_import_state, "running")
        self.assertTrue(self._import_comments_later(2))
        self.assertEqual(self.page.comment_import_state, "done")
        self.assertFalse(self.page.comment_import_error)
        self.assertTrue(
            self.env["meta.social.comment"].search(
                [("asset_id", "=", self.page.id), ("text", "=", "Yeni yorum")]
            )
        )

    def test_a_broken_token_pauses_the_comment_import_until_repaired(self):
        """A token Meta refuses waits for the reconnection instead of
        failing the import for good."""
        self.simulator.add_comment(self.post["id"], "Yeni yorum", deliver=False)
        self.page.comment_import_days = 30
        self.instagram.comment_import_days = 0
        self.simulator.faults.fail_calls("/comments", kind="token", times=1)
        self.env["meta.social.import"]._cron_import_comments(time_budget=None)
        self.assertEqual(self.page.comment_import_state, "paused")
        self.assertEqual(self.connection.state, "needs_reconnect")
        self.assertTrue(self._import_comments_later(2), "nothing runs meanwhile")
        self.assertEqual(self.page.comment_import_state, "paused")
        self.connection.sudo().state = "connected"
        self.assertTrue(self._import_comments_later(2))
        self.assertEqual(self.page.comment_import_state, "done")

    def test_a_rate_limit_schedules_the_comment_import_after_the_throttle(self):
        """Throttled by Meta, the comment import runs again when the
        connection's throttle ends: it used to wait for the hourly run."""
        self.simulator.add_comment(self.post["id"], "Yeni yorum", deliver=False)
        self.page.comment_import_days = 30
        self.instagram.comment_import_days = 0
        self.simulator.faults.fail_calls("/comments", kind="throttle", times=1)
        cron = self.env.ref("meta_graph_connector.ir_cron_meta_import_comments")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        self.env["meta.social.import"]._cron_import_comments(time_budget=None)
        until = self.connection.throttled_until
        self.assertTrue(until)
        self.assertEqual(self.page.comment_import_state, "running")
        self.assertTrue(
            Trigger.search([("cron_id", "=", cron.id), ("call_at", ">=", until)])
        )
        # the throttle over, the import resumes where it stopped
        self.connection.sudo().throttled_until = False
        self.assertTrue(self._import_comments_later(60 * 24))
        self.assertEqual(self.page.comment_import_state, "done")

    def test_a_permission_meta_confirms_lost_pauses_the_comment_import(self):
        """A permission refusal that Meta's debug_token confirms (this token
        lacks a scope a feature of the connection needs) waits for the
        connection's repair instead of failing the import for good."""
        self.page.comment_import_days = 30
        self.instagram.comment_import_days = 0
        self.simulator.faults.fail_calls("/comments", kind="permission", times=1)
        self.env["meta.social.import"]._cron_import_comments(time_budget=None)
        self.assertEqual(self.page.comment_import_state, "paused")
        self.assertIn("200", self.page.comment_import_error)
        self.assertEqual(self.connection.state, "permission_missing")

    def test_instagram_mentions_land_on_their_author(self):
        ig = self.sim_page["ig_account_id"]
        in_comment = self.simulator.add_mention(
            ig, "@anadolumobilya koltuğa bayıldım", username="elif", deliver=False
        )
        in_caption = self.simulator.add_mention(
            ig, "Yeni evim @anadolumobilya", username="elif", in_comment=False,
            deliver=False,
        )  # fmt: skip
        Event = self.env["meta.webhook.event"]
        for mention in (in_comment, in_caption):
            Event._meta_store_events(
                parse_delivery(
                    payloads.instagram_mention(
                        ig, mention["media_id"], mention["comment_id"] or None
                    )
                )
            )
        Event._cron_process_events()
        mentions = self.env["meta.social.comment"].search([("kind", "=", "mention")])
        self.assertEqual(
            sorted(mentions.mapped("text")),
            ["@anadolumobilya koltuğa bayıldım", "Yeni evim @anadolumobilya"],
        )
        self.assertEqual(len(mentions.partner_id), 1, "one person: @elif")
        self.assertEqual(mentions.partner_id.name, "@elif")
        self.assertTrue(all(m.post_id.url for m in mentions))
        # a caption mention has no comment to answer privately
        caption = mentions.filtered(lambda m: m.comment_ref == in_caption["media_id"])
        with self.assertRaisesRegex(UserError, "cannot be answered privately"):
            caption.with_user(self.salesman)._meta_private_reply("Teşekkürler")

    def test_an_instagram_profile_is_read_once_when_meta_allows(self):
        ig = self.sim_page["ig_account_id"]
        media = self.simulator.add_ig_media(ig)
        for index, username in enumerate(("elif", "can")):
            self.simulator.add_comment(
                media["id"],
                "Harika",
                from_id=f"1784100000000{index}",
                username=username,
                deliver=False,
            )
            Event = self.env["meta.webhook.event"]
            Event._meta_store_events(
                parse_delivery(
                    payloads.instagram_comment(
                        ig,
                        f"1789{index}",
                        "Harika",
                        f"1784100000000{index}",
                        username,
                        media["id"],
                    )  # fmt: skip
                )
            )
            Event._cron_process_events()
        Contact = self.env["meta.social.contact"]
        elif_ = Contact.search([("scoped_id", "=", "17841000000000")])
        self.assertEqual(elif_.partner_id.name, "@elif")
        # Elif wrote to the account; Can only commented
        self.simulator.set_messaged("17841000000000", name="Elif Kaya")
        Contact._cron_fetch_profiles()
        self.assertFalse(elif_.profile_checked, "not without the permission")
        self.connection.granted_scopes += ",instagram_manage_messages"
        self.connection.sudo().access_token = self.simulator.add_user_token(
            scopes=self.connection.granted_scopes.split(","),
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
        )
        self.page.sudo().access_token = self.simulator.page_token(
            self.connection.sudo().access_token, self.sim_page["id"]
        )
        Contact._cron_fetch_profiles()
        can = Contact.search([("scoped_id", "=", "17841000000001")])
        self.assertTrue(elif_.profile_checked and can.profile_checked)
        self.assertEqual(elif_.name, "Elif Kaya")
        self.assertEqual(elif_.partner_id.name, "Elif Kaya")
        self.assertTrue(elif_.picture_url.startswith("https://"))
        self.assertEqual(can.partner_id.name, "@can", "no consent: never required")
        self.assertFalse(can.picture_url)
        calls = len(self.simulator.requests)
        Contact._cron_fetch_profiles()
        self.assertEqual(len(self.simulator.requests), calls, "asked once")


@tagged("post_install", "-at_install")
class TestSocialContactsConcurrency(TransactionCase):
    NEWCOMER = "Eşzamanlı Kişi"

    def worker(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def committed_page(self):
        """A Page of a connection, committed where both workers see it; its id."""
        with self.registry.cursor() as cr:
            env = self.worker(cr)
            connection = env["meta.connection"].create(
                {"name": "Eşzamanlı", "access_token": "EAAB-concurrent"}
            )
            return (
                env["meta.asset"]
                .create(
                    {
                        "name": "Eşzamanlı Sayfa",
                        "connection_id": connection.id,
                        "asset_type": "page",
                        "external_id": "888000888",
                    }
                )
                .id
            )

    def forget_page(self, asset_id):
        """Remove what :meth:`committed_page` and the workers committed."""
        with self.registry.cursor() as cr:
            cr.execute(
                "DELETE FROM res_partner WHERE id IN (SELECT partner_id FROM "
                "meta_social_contact WHERE asset_id = %s)",
                [asset_id],
            )
            cr.execute("DELETE FROM meta_asset WHERE id = %s", [asset_id])
            cr.execute("DELETE FROM meta_connection WHERE name = %s", ["Eşzamanlı"])

    def contact_for(self, env, asset_id, change):
        """The contact of the comment's author, as the worker of ``env`` finds
        or makes it."""
        return env["meta.social.contact"]._meta_contact_for(
            env["meta.asset"].browse(asset_id), change
        )

    def test_two_workers_make_one_contact_of_a_newcomer(self):
        """Two comments of a newcomer processed at once by two workers: one
        contact, one partner; the loser is retried, never left without."""
        asset_id = self.committed_page()
        change = social.CommentChange(
            platform="facebook",
            account_id="888000888",
            comment_id="1_1",
            author_id="9001",
            author_name=self.NEWCOMER,
        )
        outcome = {}
        try:
            with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
                env1, env2 = self.worker(cr1), self.worker(cr2)
                # worker 2's snapshot is taken before worker 1 commits
                env2.cr.execute("SELECT 1")
                first = self.contact_for(env1, asset_id, change)

                def second():
                    try:
                        self.contact_for(env2, asset_id, change)
                    except TransientError as error:
                        outcome["retry"] = str(error)

                # the loser's unique violation is the point of the test
                with mute_logger("odoo.sql_db"):
                    thread = threading.Thread(target=second)
                    thread.start()
                    time.sleep(0.5)  # worker 2 waits on worker 1's key
                    cr1.commit()
                    thread.join(10)
                self.assertIn("retried", outcome.get("retry", ""))
                cr2.rollback()
                # the retry, in a new transaction, finds worker 1's contact
                again = self.contact_for(env2, asset_id, change)
                self.assertEqual(again.id, first.id)
                cr2.execute(
                    "SELECT count(*) FROM res_partner WHERE name = %s",
                    [self.NEWCOMER],
                )
                self.assertEqual(cr2.fetchone()[0], 1)
                cr2.rollback()
        finally:
            self.forget_page(asset_id)
