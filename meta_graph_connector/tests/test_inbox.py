import json
import time
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.meta_graph_connector import series
from odoo.addons.meta_graph_connector.graph.webhook import parse_delivery, sign
from odoo.addons.meta_graph_connector.models.discuss_channel import posted_by_hand
from odoo.addons.meta_graph_connector.tests.common import (
    APP_SECRET,
    PAGE_SCOPES,
    MetaTransactionCase,
)

from meta_simulator import payloads

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
PSID = "24000000000000001"
IGSID = "17800000000000001"


class InboxCase(MetaTransactionCase):
    """A Page and its Instagram account at the simulator with Messenger
    permissions, an inbox team, and helpers that deliver what Meta sends."""

    def setUp(self):
        super().setUp()
        self.Event = self.env["meta.webhook.event"]
        self.Channel = self.env["discuss.channel"]
        self.page_id = self.sim_page["id"]
        self.ig_id = self.sim_page["ig_account_id"]
        scopes = [*PAGE_SCOPES, "instagram_basic", "instagram_manage_messages"]
        self.connection.granted_scopes = ",".join(scopes)
        # the Page's token at Meta has what the connection says it was granted
        manager = self.simulator.add_user_token(
            scopes=scopes, pages=[self.page_id], token_type="SYSTEM_USER"
        )
        self.page.access_token = self.simulator.page_token(manager, self.page_id)
        self.team = self.env["crm.team"].create(
            {"name": "Sosyal Medya", "member_ids": [(6, 0, self.salesman.ids)]}
        )
        self.page.inbox_team_id = self.team
        self.online(self.salesman)

    def online(self, user):
        self.env[series.PRESENCE_MODEL].sudo().create(
            {"user_id": user.id, "status": "online"}
        )
        user.invalidate_recordset(["im_status"])

    def deliver(self, *bodies):
        """Store deliveries as the webhook controller does, then run the
        lane as its cron does."""
        events = [e for body in bodies for e in parse_delivery(body)]
        ids = self.Event._meta_store_events(events)
        self.Event._cron_process_events()
        return self.Event.browse(ids)

    def write_in(
        self,
        text="Merhaba, fiyat alabilir miyim?",
        *,
        psid=PSID,
        channel="messenger",
        at=None,
        attachments=None,
        ad_id=None,
        name=None,
    ):
        """The customer writes: the simulator knows the conversation (its
        Send API checks the window), Odoo receives its webhook."""
        at = at or time.time()
        sent = self.simulator.receive_dm(
            self.page_id,
            psid,
            text,
            channel=channel,
            at=at,
            ad_id=ad_id,
            attachments=attachments,
            name=name,
            deliver=False,
        )
        if channel == "instagram":
            body = payloads.instagram_message(
                self.ig_id,
                psid,
                sent["mid"],
                text,
                attachments=attachments,
                timestamp_ms=int(at * 1000),
            )
        else:
            body = payloads.messenger_message(
                self.page_id, psid, sent["mid"], text, attachments, int(at * 1000)
            )
        if ad_id:
            body["entry"][0]["messaging"][0]["message"]["referral"] = {
                "source": "ADS",
                "type": "OPEN_THREAD",
                "ad_id": ad_id,
            }
        self.deliver(body)
        return sent["mid"]

    def conversation(self, psid=PSID):
        return self.Channel.search(
            [("channel_type", "=", "meta"), ("meta_contact_id.scoped_id", "=", psid)]
        )

    def comments(self, channel):
        return channel.message_ids.filtered(
            lambda m: m.message_type == "comment"
        ).sorted("id")

    def agent_writes(self, channel, text, user=None, **kwargs):
        """An agent types in Discuss: as its post route does, by hand
        (``controllers/discuss.py``), in sudo."""
        user = user or self.salesman
        return (
            channel.with_user(user)
            .with_context(**posted_by_hand(channel.id))
            .sudo()
            .message_post(
                body=text,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                **kwargs,
            )
        )

    def sent_at_meta(self, psid=PSID):
        return [
            m
            for m in self.simulator.conversation(self.page_id, psid)["messages"]
            if m["from"] == self.page_id
        ]


@tagged("post_install", "-at_install")
class TestInbox(InboxCase):
    # ------------------------------------------------------------ inbound

    def test_a_first_message_opens_one_conversation_for_the_customer(self):
        mid = self.write_in(f"Fiyat? {XSS}")
        channel = self.conversation()
        self.assertEqual(len(channel), 1)
        self.assertEqual(channel.channel_type, "meta")
        self.assertEqual(channel.meta_platform, "messenger")
        self.assertEqual(channel.meta_asset_id, self.page)
        customer = channel.meta_partner_id
        self.assertTrue(customer)
        self.assertEqual(
            channel.channel_member_ids.partner_id,
            customer | self.salesman.partner_id,
            "the customer and the agent are its members",
        )
        self.assertEqual(channel.meta_agent_id, self.salesman)
        (message,) = self.comments(channel)
        self.assertEqual(message.author_id, customer)
        self.assertEqual(message.meta_mid, mid)
        self.assertNotIn("<script>", message.body)
        self.assertNotIn("<img", message.body)
        self.assertIn("&lt;script&gt;", message.body)
        self.assertTrue(channel.meta_last_inbound_at)
        # the customer's card says so, with a link to the conversation
        note = customer.message_ids.filtered(
            lambda m: (
                m.subtype_id
                == self.env.ref("meta_graph_connector.mt_meta_conversation_partner")
            )
        )
        self.assertEqual(len(note), 1)
        self.assertIn(f'data-oe-id="{channel.id}"', note.body)
        # a redelivery and the same message read again change nothing
        body = payloads.messenger_message(self.page_id, PSID, mid, "Fiyat?")
        self.deliver(body)
        self.assertEqual(len(self.comments(channel)), 1)
        # the next message goes to the same conversation
        self.write_in("Bir şey daha")
        self.assertEqual(len(self.conversation()), 1)
        self.assertEqual(len(self.comments(channel)), 2)

    def test_the_agent_sees_it_unread_in_discuss(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        member = channel.channel_member_ids.filtered(
            lambda m: m.partner_id == self.salesman.partner_id
        )
        self.assertEqual(member.message_unread_counter, 1)
        self.assertIn(
            channel, self.Channel.with_user(self.salesman)._get_channels_as_member()
        )

    def test_instagram_messages_have_their_own_conversation(self):
        self.write_in("Merhaba", psid=IGSID, channel="instagram")
        channel = self.conversation(IGSID)
        self.assertEqual(channel.meta_platform, "instagram")
        self.assertEqual(channel.meta_asset_id, self.instagram)
        self.assertEqual(channel.meta_team_id, self.team, "the Page's team")

    def test_the_least_busy_available_agent_else_the_team(self):
        second = new_test_user(
            self.env,
            login="meta_second",
            groups="sales_team.group_sale_salesman",
            name="İkinci Satıcı",
        )
        offline = new_test_user(
            self.env,
            login="meta_offline",
            groups="sales_team.group_sale_salesman",
            name="Çevrimdışı",
        )
        self.team.member_ids = self.salesman | second | offline
        self.online(second)
        self.write_in("1", psid="24000000000000011")
        self.write_in("2", psid="24000000000000012")
        self.write_in("3", psid="24000000000000013")
        agents = [
            self.conversation(p).meta_agent_id
            for p in ("24000000000000011", "24000000000000012", "24000000000000013")
        ]
        self.assertEqual(agents[0], self.salesman, "a tie: the first")
        self.assertEqual(agents[1], second, "the least busy")
        self.assertEqual(agents[2], self.salesman)
        self.assertNotIn(offline, agents)
        # nobody online: the whole team gets it, no agent
        self.env[series.PRESENCE_MODEL].sudo().search([]).unlink()
        (self.team.member_ids).invalidate_recordset(["im_status"])
        self.write_in("4", psid="24000000000000014")
        channel = self.conversation("24000000000000014")
        self.assertFalse(channel.meta_agent_id)
        self.assertLessEqual(
            self.team.member_ids.partner_id, channel.channel_member_ids.partner_id
        )

    def test_the_inbox_team_chooses_the_agent_and_an_extension_may_narrow_it(self):
        second = new_test_user(
            self.env,
            login="meta_narrowed",
            groups="sales_team.group_sale_salesman",
            name="Seçilen Satıcı",
        )
        self.team.member_ids = self.salesman | second
        self.online(second)
        Team = type(self.env["crm.team"])
        # a team that lets only some of its members take conversations (a
        # language, a skill) overrides one step, not the whole choice
        with patch.object(
            Team,
            "_meta_available_agents",
            lambda team, conversation=None: team.member_ids - self.salesman,
        ):
            self.write_in("Merhaba")
        self.assertEqual(self.conversation().meta_agent_id, second)

    def test_conversation_events_are_the_inbox_s_and_retention_its_own(self):
        routes = self.env["meta.webhook.event"]._meta_event_routes()
        self.assertEqual(routes["messenger_message"], "meta.conversation.inbox")
        self.assertEqual(routes["instagram_reaction"], "meta.conversation.inbox")
        cron = self.env.ref("meta_graph_connector.ir_cron_meta_erase_conversations")
        self.assertEqual(cron.model_id.model, "meta.conversation.retention")

    def test_reassignment_keeps_the_history(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        other = new_test_user(
            self.env,
            login="meta_other",
            groups="sales_team.group_sale_salesman",
            name="Diğer Satıcı",
        )
        self.team.member_ids |= other
        channel.with_user(other).action_meta_take()
        self.assertEqual(channel.meta_agent_id, other)
        self.assertIn(other.partner_id, channel.channel_member_ids.partner_id)
        self.assertEqual(len(self.comments(channel)), 1)
        history = self.comments(channel).with_user(other)
        self.assertEqual(history.mapped("body"), self.comments(channel).mapped("body"))

    def _deliver_every_attachment_kind(self):
        """A message of the customer with an image, a sticker, a link and a
        kind of attachment Meta may add one day, delivered as Meta does;
        its mid."""
        image = self.simulator.add_cdn_file(b"\x89PNG fake", "image/png", "foto.png")
        mid = self.simulator.receive_dm(self.page_id, PSID, "", deliver=False)["mid"]
        self.deliver(
            payloads.messenger_message(
                self.page_id,
                PSID,
                mid,
                None,
                [
                    {"type": "image", "payload": {"url": image}},
                    {
                        "type": "sticker",
                        "payload": {"url": image, "sticker_id": 369239263222822},
                    },
                    {
                        "type": "fallback",
                        "payload": {"url": "https://example.com/x"},
                        "title": XSS,
                    },
                    {"type": "brand_new_kind", "payload": {}},
                ],
            )
        )
        return mid

    def _assert_a_reaction_then_its_removal(self, channel, message, mid):
        reaction = payloads.messenger_reaction(self.page_id, PSID, mid, emoji="😍")
        self.deliver(reaction, reaction)
        self.assertEqual(message.reaction_ids.content, "😍")
        self.assertEqual(message.reaction_ids.partner_id, channel.meta_partner_id)
        self.deliver(
            payloads.messenger_reaction(
                self.page_id, PSID, mid, emoji="😍", action="unreact"
            )
        )
        self.assertFalse(message.reaction_ids)

    def _assert_a_button_then_back_through_an_ad(self, channel):
        self.deliver(
            payloads.messenger_postback(
                self.page_id, PSID, "Başla", "GET_STARTED", mid="m_pb1"
            )
        )
        self.assertIn("Başla", self.comments(channel)[-1].body)
        referral = {
            "sender": {"id": PSID},
            "recipient": {"id": self.page_id},
            "timestamp": int(time.time() * 1000),
            "referral": {"source": "ADS", "type": "OPEN_THREAD", "ad_id": "6100"},
        }
        self.deliver(
            payloads.delivery(
                "page", [{"id": self.page_id, "time": 1, "messaging": [referral]}]
            )
        )
        self.assertEqual(channel.meta_ad_id, "6100")
        self.assertTrue(channel.meta_ad_opened_at)

    def test_every_inbound_kind_lands_once(self):
        mid = self._deliver_every_attachment_kind()
        channel = self.conversation()
        (message,) = self.comments(channel)
        self.assertEqual(message.meta_mid, mid)
        self.assertEqual(
            sorted(message.attachment_ids.mapped("mimetype")),
            ["image/png", "image/png"],
        )
        self.assertIn("Sticker", message.body)
        self.assertIn("Sent something Odoo cannot show", message.body)
        self.assertNotIn("<script>", message.body)
        self._assert_a_reaction_then_its_removal(channel, message, mid)
        self._assert_a_button_then_back_through_an_ad(channel)

    def test_an_instagram_message_deleted_by_the_customer_keeps_its_trace(self):
        mid = self.write_in("Yanlış mesaj", psid=IGSID, channel="instagram")
        channel = self.conversation(IGSID)
        self.deliver(
            payloads.instagram_message(self.ig_id, IGSID, mid, is_deleted=True)
        )
        (message,) = self.comments(channel)
        self.assertNotIn("Yanlış mesaj", message.body)
        self.assertTrue(message.meta_erased)
        self.assertEqual(message.meta_mid, mid)

    def test_a_deletion_told_before_its_message_erases_it(self):
        # Meta delivers out of order: the deletion first, then the message
        at = time.time() - 60
        sent = self.simulator.receive_dm(
            self.page_id, IGSID, "Yanlış mesaj", channel="instagram", at=at,
            deliver=False,
        )  # fmt: skip
        self.deliver(
            payloads.instagram_message(self.ig_id, IGSID, sent["mid"], is_deleted=True)
        )
        self.deliver(
            payloads.instagram_message(
                self.ig_id, IGSID, sent["mid"], "Yanlış mesaj",
                timestamp_ms=int(at * 1000),
            )
        )  # fmt: skip
        channel = self.conversation(IGSID)
        (message,) = self.comments(channel)
        self.assertNotIn("Yanlış mesaj", message.body)
        self.assertTrue(message.meta_erased)
        self.assertEqual(message.meta_mid, sent["mid"])
        self.assertEqual(message.author_id, channel.meta_partner_id)
        self.assertEqual(
            message.date,
            datetime.fromtimestamp(int(at * 1000) / 1000, UTC).replace(tzinfo=None),
            "in its place in the conversation",
        )
        self.assertTrue(channel.meta_last_inbound_at, "the customer did write")

    def test_a_reaction_reopens_the_window(self):
        mid = self.write_in("Merhaba", at=time.time() - 3 * 86400)
        channel = self.conversation()
        with self.assertRaisesRegex(UserError, "Human Agent"):
            self.agent_writes(channel, "Geç cevap")
        reacted_at = time.time()
        self.simulator.receive_reaction(
            self.page_id, PSID, mid, emoji="👍", at=reacted_at, deliver=False
        )
        self.deliver(
            payloads.messenger_reaction(
                self.page_id,
                PSID,
                mid,
                "like",
                "👍",
                timestamp_ms=int(reacted_at * 1000),
            )
        )
        self.assertIsNone(channel._meta_send_refusal())
        self.agent_writes(channel, "Beğeniniz için teşekkürler")
        self.send_outbox()
        (sent,) = self.sent_at_meta()
        self.assertEqual(sent["text"], "Beğeniniz için teşekkürler")
        self.assertIsNone(sent["tag"], "a response inside the window")
        # taking a reaction back is not reacting
        opened = channel.meta_last_inbound_at
        self.deliver(
            payloads.messenger_reaction(
                self.page_id, PSID, mid, action="unreact",
                timestamp_ms=int(reacted_at * 1000) + 5000,
            )
        )  # fmt: skip
        self.assertEqual(channel.meta_last_inbound_at, opened)

    def test_standby_is_shown_and_not_answered(self):
        at = time.time()
        sent = self.simulator.receive_dm(
            self.page_id, PSID, "Bot'a yazdım", at=at, deliver=False
        )
        self.deliver(
            payloads.standby(
                payloads.messenger_message(
                    self.page_id,
                    PSID,
                    sent["mid"],
                    "Bot'a yazdım",
                    None,
                    int(at * 1000),
                )
            )
        )
        channel = self.conversation()
        self.assertTrue(channel.meta_standby)
        self.assertEqual(len(self.comments(channel)), 1)
        with self.assertRaisesRegex(UserError, "Another app"):
            self.agent_writes(channel, "Ben cevaplayayım")
        self.assertEqual(len(self.comments(channel)), 1, "nothing posted")
        # the thread comes back to us with the next ordinary message
        self.write_in("Tekrar merhaba")
        self.assertFalse(channel.meta_standby)

    # ------------------------------------------------------------ replies

    def test_a_reply_leaves_through_the_outbox_in_order_with_its_states(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        first = self.agent_writes(channel, "Merhaba, <b>hoş geldiniz</b>")
        second = self.agent_writes(channel, "Fiyat listesi ekte")
        self.assertEqual(first.meta_delivery_state, "queued")
        self.assertFalse(self.sent_at_meta(), "nothing left inside the request")
        self.send_outbox()
        sent = self.sent_at_meta()
        self.assertEqual(
            [m["text"] for m in sent],
            ["Merhaba, hoş geldiniz", "Fiyat listesi ekte"],
            "in order, as text",
        )
        self.assertEqual({m["tag"] for m in sent}, {None})
        self.assertEqual(first.meta_delivery_state, "sent")
        self.assertEqual(first.meta_mid, sent[0]["mid"])
        self.assertEqual(second.meta_mid, sent[1]["mid"])
        # their echoes are ours: nothing is mirrored
        for index in range(2):
            self.deliver(
                payloads.messenger_echo(
                    self.page_id,
                    PSID,
                    sent[index]["mid"],
                    sent[index]["text"],
                    app_id=self.simulator.app_id,
                    metadata=sent[index]["metadata"],
                )
            )
        self.assertEqual(len(self.comments(channel)), 3)
        # delivered, then read; a late "delivered" never moves it back
        ms = int(time.time() * 1000) + 1000
        self.deliver(
            payloads.messenger_delivery(self.page_id, PSID, [sent[0]["mid"]], ms)
        )
        self.assertEqual(first.meta_delivery_state, "delivered")
        self.deliver(payloads.messenger_read(self.page_id, PSID, ms + 1))
        self.assertEqual(
            (first | second).mapped("meta_delivery_state"), ["read", "read"]
        )
        self.deliver(
            payloads.messenger_delivery(self.page_id, PSID, [sent[1]["mid"]], ms + 2)
        )
        self.assertEqual(second.meta_delivery_state, "read")

    def test_an_echo_first_then_the_answer_is_one_message(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        mine = self.agent_writes(channel, "Cevap")
        self.deliver(
            payloads.messenger_echo(
                self.page_id,
                PSID,
                "m_echo_first",
                "Cevap",
                app_id=self.simulator.app_id,
                metadata=f"odoo:mail.message:{mine.id}:0",
            )
        )
        self.assertEqual(mine.meta_mid, "m_echo_first")
        self.assertEqual(mine.meta_delivery_state, "sent")
        self.assertEqual(len(self.comments(channel)), 2)

    def test_a_part_meta_already_took_is_never_sent_twice(self):
        # Meta took the text, its answer was lost (a timeout): the echo says
        # so before the outbox tries again
        self.write_in("Merhaba")
        channel = self.conversation()
        image = self.env["ir.attachment"].create(
            {
                "name": "katalog.png",
                "raw": b"\x89PNG katalog",
                "mimetype": "image/png",
                "res_model": "discuss.channel",
                "res_id": channel.id,
            }
        )
        mine = self.agent_writes(channel, "Katalog ekte", attachment_ids=image.ids)
        self.deliver(
            payloads.messenger_echo(
                self.page_id,
                PSID,
                "m_taken_0",
                "Katalog ekte",
                app_id=self.simulator.app_id,
                metadata=f"odoo:mail.message:{mine.id}:0",
            )
        )
        self.send_outbox()
        sent = self.sent_at_meta()
        self.assertEqual(len(sent), 1, "only the image was left to send")
        self.assertTrue(sent[0]["attachment"])
        self.assertEqual(mine.meta_mid, "m_taken_0")
        self.assertEqual(mine.meta_delivery_state, "sent")
        items = self.env["meta.outbox"].search([("origin_id", "=", mine.id)])
        self.assertEqual(set(items.mapped("state")), {"done"})

    def test_a_message_from_meta_business_suite_is_mirrored_once(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        echo = payloads.messenger_echo(
            self.page_id,
            PSID,
            "m_suite_1",
            f"Suite'ten {XSS}",
            app_id="263902037430900",
        )
        self.deliver(echo, echo)
        messages = self.comments(channel)
        self.assertEqual(len(messages), 2)
        mirrored = messages[-1]
        self.assertEqual(mirrored.author_id, self.env.company.partner_id)
        self.assertEqual(mirrored.meta_delivery_state, "sent")
        self.assertIn("another app", mirrored.body)
        self.assertNotIn("<script>", mirrored.body)
        self.assertFalse(self.sent_at_meta(), "never sent again")

    def test_meta_refusing_a_message_fails_it_with_the_reason_in_words(self):
        # the window closed at Meta while the message waited
        self.write_in("Merhaba", at=time.time() - 3 * 86400)
        channel = self.conversation()
        channel.sudo().meta_last_inbound_at = fields.Datetime.now() - timedelta(hours=1)
        message = self.agent_writes(channel, "Geç cevap")
        self.send_outbox()
        self.assertEqual(message.meta_delivery_state, "failed")
        self.assertIn("window", message.meta_delivery_error)
        self.assertIn("2018278", message.meta_delivery_error)
        item = self.env["meta.outbox"].search([("origin_id", "=", message.id)])
        self.assertEqual(item.state, "dead", "failed, not parked for a reconnection")
        self.assertEqual(self.connection.state, "connected")

    def test_another_app_taking_the_thread_fails_the_message_and_says_so(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        # Conversation Routing gives the thread to Meta Business Suite
        self.simulator.set_thread_owner(self.page_id, PSID, "263902037430900")
        message = self.agent_writes(channel, "Cevap")
        self.send_outbox()
        self.assertEqual(message.meta_delivery_state, "failed")
        self.assertIn("another app", message.meta_delivery_error)
        self.assertTrue(channel.meta_standby, "the composer now says why")
        self.assertEqual(self.connection.state, "connected", "no permission lost")

    def test_attachments_go_out_within_meta_limits(self):
        self.write_in("Katalog?")
        channel = self.conversation()
        pdf = self.env["ir.attachment"].create(
            {
                "name": f"{XSS}.pdf",
                "raw": b"%PDF-1.4 katalog",
                "mimetype": "application/pdf",
                "res_model": "discuss.channel",
                "res_id": channel.id,
            }
        )
        message = self.agent_writes(channel, "", attachment_ids=pdf.ids)
        self.send_outbox()
        (sent,) = self.sent_at_meta()
        self.assertEqual(sent["attachment"]["type"], "file")
        self.assertIn(
            f"/web/content/{pdf.id}?access_token=", sent["attachment"]["payload"]["url"]
        )
        self.assertEqual(message.meta_delivery_state, "sent")
        big = self.env["ir.attachment"].create(
            {
                "name": "büyük.png",
                "raw": b"x" * (8 * 1024 * 1024 + 1),
                "mimetype": "image/png",
                "res_model": "discuss.channel",
                "res_id": channel.id,
            }
        )
        with self.assertRaisesRegex(UserError, "larger than Meta takes"):
            self.agent_writes(channel, "Resim", attachment_ids=big.ids)
        ig_pdf = pdf.copy()
        self.write_in("Katalog?", psid=IGSID, channel="instagram")
        with self.assertRaisesRegex(UserError, "does not take files"):
            self.agent_writes(self.conversation(IGSID), "", attachment_ids=ig_pdf.ids)

    def test_too_long_or_empty_is_refused_before_anything_is_posted(self):
        self.write_in("Merhaba", psid=IGSID, channel="instagram")
        channel = self.conversation(IGSID)
        with self.assertRaisesRegex(UserError, "longer than Meta takes"):
            self.agent_writes(channel, "ş" * 501)  # 1002 bytes
        with self.assertRaisesRegex(UserError, "Write a message"):
            self.agent_writes(channel, "<p> </p>")
        self.assertEqual(len(self.comments(channel)), 1)

    # ------------------------------------------------------------ window

    def test_the_window_at_its_boundaries(self):
        t0 = datetime(2026, 12, 1, 9, 0, 0)
        self.write_in("Merhaba", at=time.time())
        channel = self.conversation()
        channel.sudo().meta_last_inbound_at = t0
        outbox = self.env["meta.outbox"]

        def tag_sent_at(moment):
            with freeze_time(moment):
                self.agent_writes(channel, f"{moment}")
            item = outbox.search([("origin_model", "=", "mail.message")], limit=1)
            return item.params["messaging_type"], item.params["tag"]

        second = timedelta(seconds=1)
        self.assertEqual(
            tag_sent_at(t0 + timedelta(hours=24) - second), ("RESPONSE", None)
        )
        for moment in (t0 + timedelta(hours=24), t0 + timedelta(days=3)):
            with freeze_time(moment), self.assertRaisesRegex(UserError, "Human Agent"):
                self.agent_writes(channel, "x")
        self.meta_app.human_agent_enabled = True
        self.assertEqual(
            tag_sent_at(t0 + timedelta(hours=24)), ("MESSAGE_TAG", "HUMAN_AGENT")
        )
        self.assertEqual(
            tag_sent_at(t0 + timedelta(days=7) - second), ("MESSAGE_TAG", "HUMAN_AGENT")
        )
        with (
            freeze_time(t0 + timedelta(days=7)),
            self.assertRaisesRegex(UserError, "older than 7 days"),
        ):
            self.agent_writes(channel, "x")
        # an automated message (the cron, a server action) is never tagged
        with (
            freeze_time(t0 + timedelta(days=2)),
            self.assertRaisesRegex(UserError, "not an automated message"),
        ):
            channel.with_context(meta_automated=True).message_post(
                body="Otomatik", message_type="comment"
            )
        with freeze_time(t0 + timedelta(days=2)), self.assertRaises(UserError):
            channel.with_user(self.env.ref("base.user_root")).message_post(
                body="Otomatik", message_type="comment"
            )

    def test_a_click_to_message_ad_opens_seven_days(self):
        t0 = datetime(2026, 12, 1, 9, 0, 0)
        self.write_in("Reklamdan geldim", ad_id="6100")
        channel = self.conversation()
        self.assertEqual(channel.meta_ad_id, "6100")
        channel.sudo().write({"meta_last_inbound_at": t0, "meta_ad_opened_at": t0})
        with freeze_time(t0 + timedelta(days=6)):
            self.assertIsNone(channel._meta_send_refusal())
            self.assertEqual(channel._meta_send_rule().messaging_type, "RESPONSE")
        with freeze_time(t0 + timedelta(days=7)):
            self.assertIn("7 days", channel._meta_send_refusal())

    def test_human_agent_and_response_are_what_meta_takes(self):
        self.simulator.human_agent_enabled = True
        self.meta_app.human_agent_enabled = True
        past = time.time() - 30 * 3600
        self.write_in("Dün yazdım", at=past)
        channel = self.conversation()
        self.agent_writes(channel, "Kusura bakmayın, geç kaldık")
        self.send_outbox()
        (sent,) = self.sent_at_meta()
        self.assertEqual(sent["tag"], "HUMAN_AGENT")

    def test_a_turkish_agent_sees_the_live_state_in_turkish(self):
        self.speak_turkish(self.salesman)
        self.write_in("Merhaba")
        channel = self.conversation()
        message = self.agent_writes(channel, "Merhaba, buyurun")
        self.env.cr.precommit.run()
        self.env["bus.bus"].sudo().search([]).unlink()
        self.send_outbox()  # the worker, in English, applies Meta's answer
        self.assertEqual(message.meta_delivery_state, "sent")
        self.env.cr.precommit.run()
        pushed = [
            (json.loads(note.channel), json.loads(note.message))
            for note in self.env["bus.bus"].sudo().search([])
        ]
        labels = [
            (target, record["meta_delivery_label"])
            for target, note in pushed
            for record in note["payload"].get("mail.message", [])
            if record.get("id") == message.id and "meta_delivery_label" in record
        ]
        self.assertEqual(
            labels,
            [
                (
                    [self.env.cr.dbname, "res.partner", self.salesman.partner_id.id],
                    "Gönderildi",
                )
            ],
        )

    # ------------------------------------------------------------ the person

    def test_a_new_conversation_bears_the_persons_name(self):
        self.write_in("Merhaba", name="Ayşe Yılmaz")
        channel = self.conversation()
        self.assertEqual(channel.name, "Ayşe Yılmaz")
        self.assertEqual(channel.meta_partner_id.name, "Ayşe Yılmaz")
        self.assertTrue(channel.meta_contact_id.picture_url)
        self.write_in("Merhaba", psid=IGSID, channel="instagram", name="Elif Kaya")
        self.assertEqual(self.conversation(IGSID).name, "Elif Kaya")

    def test_an_unknown_profile_never_stops_a_conversation(self):
        # Meta tells a message of someone it will not describe (an error
        # about that one person): the conversation opens all the same
        self.env.company.partner_id.lang = "en_US"
        self.deliver(
            payloads.messenger_message(
                self.page_id, "24000000000000077", "m_unknown_1", "Merhaba"
            )
        )
        channel = self.conversation("24000000000000077")
        self.assertEqual(len(self.comments(channel)), 1)
        self.assertEqual(channel.name, "Messenger customer …0077")
        self.assertEqual(channel.meta_partner_id.name, channel.name)
        self.assertEqual(self.connection.state, "connected")
        self.assertFalse(self.connection.last_error)

    # ------------------------------------------------------------ CRM

    def test_a_lead_from_the_conversation_carries_its_ad(self):
        self.write_in(f"Koltuk fiyatı {XSS}", ad_id="6100")
        channel = self.conversation()
        action = channel.with_user(self.salesman).action_meta_create_lead()
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(lead.partner_id, channel.meta_partner_id)
        self.assertEqual(lead.meta_conversation_id, channel)
        self.assertEqual(lead.meta_ad_id, "6100")
        self.assertFalse(lead.meta_is_organic)
        # a Messenger conversation's lead is Facebook's, as Lead Ads says
        self.assertEqual(lead.meta_platform, "facebook")
        self.assertEqual(lead.source_id, self.env.ref("utm.utm_source_facebook"))
        self.assertEqual(
            lead.medium_id, self.env.ref("meta_graph_connector.utm_medium_paid_social")
        )
        self.assertIn("Koltuk fiyatı", lead.description)
        self.assertNotIn("<script>", lead.description)
        self.assertEqual(lead.user_id, self.salesman)
        self.assertEqual(channel.meta_partner_id.meta_conversation_count, 1)

    def test_a_lead_from_the_conversation_is_its_makers(self):
        # a teammate who is not the agent makes it: theirs (crm shows a
        # salesperson their own leads only), in the conversation's team
        self.write_in("Merhaba")
        channel = self.conversation()
        mate = new_test_user(
            self.env,
            login="meta_lead_mate",
            groups="sales_team.group_sale_salesman",
            name="Takım Arkadaşı",
        )
        self.team.member_ids |= mate
        action = channel.with_user(mate).action_meta_create_lead()
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(channel.meta_agent_id, self.salesman)
        self.assertEqual(lead.user_id, mate)
        self.assertEqual(lead.team_id, self.team)
        self.assertTrue(lead.meta_is_organic)
        self.assertEqual(
            lead.medium_id,
            self.env.ref("meta_graph_connector.utm_medium_organic_social"),
        )

    # ------------------------------------------------------------ retention

    def test_old_content_is_erased_per_company_keeping_the_metadata(self):
        self.write_in("Eski mesaj")
        self.write_in("Yeni mesaj")
        channel = self.conversation()
        old, new = self.comments(channel)
        old.date = fields.Datetime.now() - timedelta(days=40)
        self.env["meta.conversation.retention"]._cron_meta_erase_old_content()
        self.assertIn("Eski mesaj", old.body, "0 days keeps everything")
        self.env.company.meta_inbox_retention_days = 30
        self.env["meta.conversation.retention"]._cron_meta_erase_old_content()
        self.assertNotIn("Eski mesaj", old.body)
        self.assertTrue(old.meta_erased and old.meta_mid and old.author_id)
        self.assertIn("Yeni mesaj", new.body)


@tagged("post_install", "-at_install")
class TestInboxAccess(InboxCase):
    def test_a_salesperson_sees_only_their_teams_conversations(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        stranger = new_test_user(
            self.env,
            login="meta_stranger",
            groups="sales_team.group_sale_salesman",
            name="Başka Ekip",
        )
        self.assertFalse(
            self.Channel.with_user(stranger).search([("channel_type", "=", "meta")])
        )
        with self.assertRaises(AccessError):
            channel.with_user(stranger).check_access("read")
        with self.assertRaises(AccessError):
            channel.with_user(stranger).action_meta_take()
        # a teammate who is not a member still sees it
        mate = new_test_user(
            self.env,
            login="meta_mate",
            groups="sales_team.group_sale_salesman",
            name="Takım Arkadaşı",
        )
        self.team.member_ids |= mate
        self.assertEqual(
            self.Channel.with_user(mate).search([("channel_type", "=", "meta")]),
            channel,
        )
        manager = new_test_user(
            self.env,
            login="meta_manager",
            groups="sales_team.group_sale_manager",
            name="Satış Müdürü",
        )
        self.assertEqual(
            self.Channel.with_user(manager).search([("channel_type", "=", "meta")]),
            channel,
        )

    def test_only_a_salesperson_reassigns_and_only_to_an_employee(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        employee = new_test_user(
            self.env, login="meta_employee", groups="base.group_user", name="Çalışan"
        )
        channel.sudo().add_members(partner_ids=employee.partner_id.ids)
        with self.assertRaises(AccessError):
            channel.with_user(employee).write({"meta_agent_id": employee.id})
        portal = new_test_user(
            self.env, login="meta_portal_agent", groups="base.group_portal", name="P"
        )
        with self.assertRaisesRegex(UserError, "not an employee"):
            channel.with_user(self.salesman).write({"meta_agent_id": portal.id})
        self.assertNotIn(portal.partner_id, channel.channel_member_ids.partner_id)
        mate = new_test_user(
            self.env,
            login="meta_mate_2",
            groups="sales_team.group_sale_salesman",
            name="Takım Arkadaşı",
        )
        channel.with_user(self.salesman).write({"meta_agent_id": mate.id})
        self.assertIn(mate.partner_id, channel.channel_member_ids.partner_id)

    def test_nobody_posts_in_the_customers_name(self):
        """The flag that files what Meta reported (not sent, any author) is
        the system's: a salesperson passing it in a context over RPC posts
        an agent's message under Meta's rules, never one in the customer's
        name that Meta never delivered."""
        self.write_in("Merhaba")
        mine = self.conversation()
        customer = mine.meta_partner_id
        before = len(self.simulator.requests)
        message = (
            mine.with_user(self.salesman)
            .with_context(meta_from_meta=True)
            .message_post(
                body="Ben müşteriyim, siparişi iptal edin",
                author_id=customer.id,
                message_type="comment",
            )
        )
        self.assertNotEqual(message.author_id, customer)
        self.assertEqual(message.meta_delivery_state, "queued", "an agent's message")
        self.assertEqual(len(self.simulator.requests), before)

    def test_nobody_opens_a_conversation_nor_moves_what_meta_said(self):
        """Only Meta's events open a conversation and set its account,
        customer, window, ad and owner app: a salesperson by RPC would
        message someone who never wrote, or reopen a closed window."""
        self.write_in("Merhaba", at=time.time() - 8 * 86400)
        mine = self.conversation()
        self.assertEqual(mine.meta_agent_id, self.salesman)
        stranger = (
            self.env["meta.social.contact"]
            .sudo()
            ._meta_contact_of(self.page, "facebook", "24000000000000099")
        )
        with self.assertRaises(AccessError):
            self.Channel.with_user(self.salesman).create(
                {
                    "name": "Hiç yazmamış biri",
                    "channel_type": "meta",
                    "meta_asset_id": self.page.id,
                    "meta_platform": "messenger",
                    "meta_contact_id": stranger.id,
                    "meta_partner_id": stranger.partner_id.id,
                    "meta_team_id": self.team.id,
                    "meta_last_inbound_at": fields.Datetime.now(),
                }
            )
        self.assertFalse(self.conversation("24000000000000099"))
        for vals in (
            {"meta_last_inbound_at": fields.Datetime.now()},
            {"meta_ad_opened_at": fields.Datetime.now(), "meta_ad_id": "6100"},
            {"meta_standby": True},
            {"meta_contact_id": stranger.id},
            {"channel_type": "channel"},
        ):
            with self.assertRaises(AccessError):
                mine.with_user(self.salesman).write(vals)
        with self.assertRaises(AccessError):
            self.Channel.with_user(self.salesman).create(
                {"name": "Kılık değiştirmiş", "meta_asset_id": self.page.id}
            )
        self.assertIn("7 days", mine._meta_send_refusal(), "the window stays closed")
        # what is the agents' stays theirs: the name, the team
        mine.with_user(self.salesman).write({"name": "Ayşe (koltuk)"})
        self.assertEqual(mine.name, "Ayşe (koltuk)")
        # nor does anyone say Meta took or delivered a message
        (received,) = self.comments(mine)
        for vals in ({"meta_delivery_state": "read"}, {"meta_mid": "m_forged"}):
            with self.assertRaises(AccessError):
                received.with_user(self.salesman).write(vals)

    def test_a_portal_customer_never_reads_nor_writes_the_conversation(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        portal = new_test_user(
            self.env, login="meta_portal", groups="base.group_portal", name="Portal"
        )
        portal.partner_id = channel.meta_partner_id  # even as the customer
        channel.sudo().add_members(partner_ids=portal.partner_id.ids)
        with self.assertRaises(AccessError):
            channel.with_user(portal).check_access("read")
        with self.assertRaises(AccessError):
            self.agent_writes(channel, "Ben müşteriyim", user=portal)

    def test_conversations_stay_in_their_company(self):
        self.write_in("Merhaba")
        channel = self.conversation()
        other = self.env["res.company"].create({"name": "Başka Şirket"})
        outsider = new_test_user(
            self.env,
            login="meta_outsider",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
            name="Dış",
        )
        self.assertFalse(
            self.Channel.with_user(outsider).search([("channel_type", "=", "meta")])
        )
        with self.assertRaises(AccessError):
            channel.with_user(outsider).check_access("read")

    @mute_logger("odoo.addons.meta_graph_connector.models.meta_queue_mixin")
    def test_one_bad_event_does_not_sink_its_neighbours(self):
        good = self.simulator.receive_dm(self.page_id, PSID, "İyi", deliver=False)
        bodies = payloads.delivery(
            "page",
            [
                payloads.messenger_reaction(self.page_id, PSID, "m_unknown"),
                payloads.messenger_message(self.page_id, PSID, good["mid"], "İyi"),
            ],
        )
        self.deliver(bodies)
        self.assertEqual(len(self.comments(self.conversation())), 1)


@tagged("post_install", "-at_install")
class TestInboxTour(InboxCase, HttpCase):
    def test_a_turkish_salesperson_answers_in_discuss(self):
        self.speak_turkish(self.salesman)
        name = '<b class="o_meta_injected">Eve</b>'
        text = (
            "<script>window.__metaXss = 1</script>"
            '<img src=x onerror="window.__metaXss = 1">'
        )
        mid = self.write_in(text)
        channel = self.conversation()
        channel.sudo().name = name  # as Meta names the person
        channel.meta_partner_id.name = name
        self.start_tour(
            "/odoo/action-mail.action_discuss",
            "meta_graph_connector_inbox",
            login=self.salesman.login,
        )
        reply = self.comments(channel)[-1]
        self.assertEqual(reply.author_id, self.salesman.partner_id)
        self.assertEqual(reply.meta_delivery_state, "queued")
        self.assertNotEqual(reply.meta_mid, mid)
        self.send_outbox()
        (sent,) = self.sent_at_meta()
        self.assertEqual(sent["text"], "Merhaba, size nasıl yardımcı olabilirim?")
        self.deliver(
            payloads.messenger_read(self.page_id, PSID, int(time.time() * 1000) + 1000)
        )
        self.assertEqual(reply.meta_delivery_state, "read")
        channel.sudo().meta_last_inbound_at = fields.Datetime.now() - timedelta(days=8)
        self.start_tour(
            "/odoo/action-mail.action_discuss",
            "meta_graph_connector_inbox_read",
            login=self.salesman.login,
        )
        # 30 hours: a person typing here answers with the Human Agent tag
        self.meta_app.human_agent_enabled = True
        channel.sudo().meta_last_inbound_at = fields.Datetime.now() - timedelta(
            hours=30
        )
        self.start_tour(
            "/odoo/action-mail.action_discuss",
            "meta_graph_connector_inbox_human_agent",
            login=self.salesman.login,
        )
        late = self.comments(channel)[-1]
        item = self.env["meta.outbox"].search([("origin_id", "=", late.id)])
        self.assertEqual(item.params["tag"], "HUMAN_AGENT", "typed by hand")


@tagged("post_install", "-at_install")
class TestInboxHumanAgent(InboxCase, HttpCase):
    """Meta's HUMAN_AGENT tag is for a person answering by hand: a message
    typed in Discuss, never one a cron, a server action or a script posts,
    whichever user it runs as."""

    def setUp(self):
        super().setUp()
        self.simulator.human_agent_enabled = True
        self.meta_app.human_agent_enabled = True
        self.write_in("Dün yazdım", at=time.time() - 30 * 3600)
        self.channel = self.conversation()
        self.outbox = self.env["meta.outbox"]

    def test_a_cron_of_a_salesperson_is_not_a_person_answering(self):
        cron = self.env["ir.cron"].create(
            {
                "name": "Hatırlatma",
                "model_id": self.env.ref("mail.model_discuss_channel").id,
                "state": "code",
                "code": f"env['discuss.channel'].browse({self.channel.id})"
                ".message_post(body='Otomatik hatırlatma', message_type='comment')",
                "user_id": self.salesman.id,
                "interval_number": 1,
                "interval_type": "days",
            }
        )
        # what the cron worker runs (ir.cron._callback): its server action,
        # as the cron's owner, with the cron's context
        job = cron.ir_actions_server_id.with_user(cron.user_id).with_context(
            lastcall=cron.lastcall, cron_id=cron.id
        )
        with self.assertRaisesRegex(UserError, "not an automated message"):
            job.run()
        self.assertFalse(self.outbox.search([("origin_model", "=", "mail.message")]))
        self.assertEqual(len(self.comments(self.channel)), 1, "nothing posted")
        # nor a script calling the method by RPC as the salesperson
        with self.assertRaisesRegex(UserError, "not an automated message"):
            self.channel.with_user(self.salesman).message_post(
                body="Betikten", message_type="comment"
            )
        self.send_outbox()
        self.assertFalse(self.sent_at_meta())

    def test_a_salesperson_typing_in_discuss_answers_with_human_agent(self):
        self.authenticate(self.salesman.login, self.salesman.login)
        self.make_jsonrpc_request(
            "/mail/message/post",
            {
                "thread_model": "discuss.channel",
                "thread_id": self.channel.id,
                "post_data": {
                    "body": "Kusura bakmayın, geç kaldık",
                    "message_type": "comment",
                    "subtype_xmlid": "mail.mt_comment",
                },
            },
        )
        item = self.outbox.search([("origin_model", "=", "mail.message")])
        self.assertEqual(
            (item.params["messaging_type"], item.params["tag"]),
            ("MESSAGE_TAG", "HUMAN_AGENT"),
        )
        self.send_outbox()
        (sent,) = self.sent_at_meta()
        self.assertEqual(sent["tag"], "HUMAN_AGENT")
        self.assertEqual(sent["text"], "Kusura bakmayın, geç kaldık")


@tagged("post_install", "-at_install")
class TestInboxHistory(InboxCase):
    """The import of recent conversations when a Page is connected."""

    def setUp(self):
        super().setUp()
        self.Import = self.env["meta.conversation.import"]
        now = time.time()
        for index, psid in enumerate(("24000000000000021", "24000000000000022")):
            self.simulator.receive_dm(
                self.page_id, psid, f"Merhaba {index}", at=now - 3600, deliver=False
            )
            self.simulator.page_inbox_reply(
                self.page_id, psid, f"Buyurun {index}", deliver=False
            )
            self.simulator.receive_dm(
                self.page_id, psid, f"Fiyat? {XSS}", deliver=False
            )
        # a conversation of long ago is not imported
        self.simulator.receive_dm(
            self.page_id,
            "24000000000000029",
            "Eski",
            at=now - 60 * 86400,
            deliver=False,
        )
        self.page.inbox_import_days = 30
        self.instagram.inbox_import_days = 0

    def run_import(self, minutes=0):
        """Run the import on a clock ``minutes`` ahead, until nothing is due."""
        Job = self.env["meta.import.job"]
        later = fields.Datetime.now() + timedelta(minutes=minutes)
        with patch.object(type(Job), "_meta_now", lambda self: later):
            return self.Import._cron_import_conversations(time_budget=None, limit=50)

    def job(self):
        return self.env["meta.import.job"].search(
            [("asset_id", "=", self.page.id), ("kind", "=", "conversations")]
        )

    def test_recent_conversations_are_imported_once_in_order(self):
        self.assertTrue(self.run_import())
        self.assertEqual(self.page.inbox_import_state, "done")
        first = self.conversation("24000000000000021")
        self.assertTrue(first)
        self.assertFalse(self.conversation("24000000000000029"))
        texts = [m.body for m in self.comments(first)]
        self.assertEqual(len(texts), 3)
        self.assertIn("Merhaba 0", texts[0])
        self.assertIn("Buyurun 0", texts[1])
        self.assertIn("Fiyat?", texts[2])
        self.assertNotIn("<script>", texts[2])
        reply = self.comments(first)[1]
        self.assertEqual(reply.author_id, self.env.company.partner_id)
        self.assertEqual(reply.meta_delivery_state, "sent")
        self.assertEqual(first.meta_agent_id, self.salesman, "assigned as live ones")
        self.assertTrue(first.meta_last_inbound_at)
        # again, or the same message by webhook: nothing twice
        self.page.action_import_conversations_again()
        self.run_import()
        mid = self.comments(first)[2].meta_mid
        self.deliver(
            payloads.messenger_message(self.page_id, "24000000000000021", mid, "Fiyat?")
        )
        self.assertEqual(len(self.comments(first)), 3)

    def test_a_fault_mid_run_resumes_where_it_stopped(self):
        # the second conversation's messages fail (beyond the client's own
        # retries): the job retries that page after a backoff
        self.simulator.faults.fail_calls(
            "/messages", kind="transient", method="GET", skip=1, times=4
        )
        self.run_import()
        self.assertEqual(self.page.inbox_import_state, "running")
        self.assertFalse(self.job().cursor, "no page past unread data")
        self.assertEqual(self.job().attempts, 1)
        # the most recently updated first
        self.assertTrue(self.conversation("24000000000000022"))
        self.assertFalse(self.conversation("24000000000000021"))
        self.assertTrue(self.run_import(minutes=2))
        self.assertEqual(self.page.inbox_import_state, "done")
        for psid in ("24000000000000021", "24000000000000022"):
            self.assertEqual(len(self.comments(self.conversation(psid))), 3)

    def test_the_import_paces_itself_at_two_calls_a_second(self):
        """No worker sleeps: the job's next page waits half a second per
        call Meta answered, whatever the machine."""
        now = fields.Datetime.now()
        Job = self.env["meta.import.job"]
        with patch.object(type(Job), "_meta_now", lambda self: now):
            self.Import._cron_import_conversations(time_budget=None, limit=1)
        # 1 list + 2 conversations' messages: 1.5 s, in whole seconds
        self.assertEqual(self.job().next_run_at, now + timedelta(seconds=2))
        self.assertEqual(len(self.conversation("24000000000000021")), 1)

    def test_the_time_a_page_took_counts_against_its_pace(self):
        """Meta's pace is of calls made: a page whose calls took longer than
        their pace is followed at once, not a pace later."""
        clock = [fields.Datetime.now()]
        Job = self.env["meta.import.job"]
        Import = type(self.Import)
        file_one = Import._meta_import_conversation

        def slow(model, *args):
            clock[0] += timedelta(seconds=1)  # Meta took a second to answer
            return file_one(model, *args)

        began = clock[0]
        with (
            patch.object(type(Job), "_meta_now", lambda self: clock[0]),
            patch.object(Import, "_meta_import_conversation", slow),
        ):
            self.Import._cron_import_conversations(time_budget=None, limit=1)
        # 3 calls, 1.5 s of pace from the page's start: due when it ended
        self.assertEqual(self.job().next_run_at, began + timedelta(seconds=2))
        self.assertLessEqual(self.job().next_run_at, clock[0])


@tagged("post_install", "-at_install")
class TestInboxFromMeta(InboxCase, HttpCase):
    """What the simulator sends, signed, to Odoo's webhook route: every kind
    of content a customer sends, and deliveries out of order."""

    def setUp(self):
        super().setUp()
        self.hook = f"{self.base_url()}/meta/webhook"
        self.connection.granted_scopes += ",instagram_manage_messages"
        # the simulator calls Odoo from its own thread: what this test wrote
        # must be in the database it reads
        self.env.flush_all()

    def received(self):
        self.Event._cron_process_events()

    def test_files_stories_and_shares_arrive_as_files_and_words(self):
        XSS_NAME = '<img src=x onerror="alert(1)">.pdf'
        self.simulator.receive_dm(
            self.page_id,
            PSID,
            "Dosyalar",
            attachments=[
                "audio",
                "video",
                {"type": "file", "name": XSS_NAME, "content_type": "application/pdf",
                 "data": b"%PDF-1.4 teklif"},
            ],
            callback_url=self.hook,
        )  # fmt: skip
        self.simulator.receive_dm(
            self.page_id,
            IGSID,
            None,
            channel="instagram",
            attachments=["story_mention"],
            callback_url=self.hook,
        )
        self.simulator.receive_dm(
            self.page_id,
            IGSID,
            "Bu ne kadar?",
            channel="instagram",
            story_reply=True,
            callback_url=self.hook,
        )
        self.received()
        (files,) = self.comments(self.conversation())
        self.assertEqual(
            {m.split("/")[0] for m in files.attachment_ids.mapped("mimetype")},
            {"audio", "video", "application"},
        )
        self.assertEqual(len(files.attachment_ids), 3, "the files are kept at Odoo")
        pdf = files.attachment_ids.filtered(lambda a: a.mimetype == "application/pdf")
        self.assertEqual(pdf.raw, b"%PDF-1.4 teklif")
        self.assertNotIn("<img", files.body)
        mention, story_reply = self.comments(self.conversation(IGSID))
        self.assertIn("Mentioned you in their story", mention.body)
        self.assertIn("Replied to your story", story_reply.body)
        self.assertIn("Bu ne kadar?", story_reply.body)

    def test_deliveries_out_of_order_land_once_and_keep_the_latest_time(self):
        now = time.time()
        first = self.simulator.receive_dm(
            self.page_id, PSID, "Birinci", at=now - 120, deliver=False
        )
        second = self.simulator.receive_dm(
            self.page_id, PSID, "İkinci", at=now - 60, deliver=False
        )
        newer = payloads.messenger_message(
            self.page_id, PSID, second["mid"], "İkinci", None, int((now - 60) * 1000)
        )
        older = payloads.messenger_message(
            self.page_id, PSID, first["mid"], "Birinci", None, int((now - 120) * 1000)
        )
        for body in (newer, older, newer):
            raw = self.encode(body)
            answer = self.url_open(
                "/meta/webhook",
                data=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(raw, APP_SECRET),
                },
            )
            self.assertEqual(answer.status_code, 200)
        self.received()
        channel = self.conversation()
        self.assertEqual(len(self.comments(channel)), 2)
        self.assertEqual(
            channel.meta_last_inbound_at,
            datetime.fromtimestamp(int((now - 60) * 1000) / 1000, UTC).replace(
                tzinfo=None
            ),
            "the older message arriving later does not move the window back",
        )
