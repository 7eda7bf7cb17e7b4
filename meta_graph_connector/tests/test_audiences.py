import hashlib
import random
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import series
from .common import MetaTransactionCase


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


@tagged("post_install", "-at_install")
class TestAudienceSync(MetaTransactionCase):
    """Audiences synced to the simulator: what Meta received is asserted."""

    def setUp(self):
        super().setUp()
        self.ad_account = self.connect_ad_account()
        self.tag = self.env["res.partner.category"].create({"name": "Teklif verildi"})
        self.audience = self.env["meta.audience"].create(
            {
                "name": "Teklif verildi, kazanılmadı",
                "ad_account_id": self.ad_account.id,
                "segment": "tags",
                "tag_ids": [(6, 0, self.tag.ids)],
            }
        )

    def person(self, name, email, consent=True):
        partner = self.env["res.partner"].create(
            {
                "name": name,
                "email": email,
                "category_id": [(6, 0, self.tag.ids)],
                "country_id": self.env.ref("base.tr").id,
            }
        )
        if consent is not None:
            partner._meta_record_consent("audiences", consent, "manual")
        return partner

    def sync(self):
        self.audience._meta_sync()
        self.send_outbox()

    def extern(self, partner):
        return self.audience._meta_extern_id(partner.id)

    def at_meta(self):
        ref = self.audience.meta_audience_ref
        return sorted(m["EXTERN_ID"] for m in self.simulator.audience_members(ref))

    def test_only_consenting_unsuppressed_people_are_sent_then_only_changes(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        burak = self.person("Burak Kaya", "burak@example.com")
        self.person("Cem Unknown", "cem@example.com", consent=None)
        deniz = self.person("Deniz Ak", "deniz@example.com")
        deniz._meta_record_consent("audiences", False, "manual", objection=True)
        deniz._meta_record_consent(
            "audiences", True, "manual"
        )  # back, still suppressed
        self.sync()
        self.assertEqual(self.at_meta(), [self.extern(ayse), self.extern(burak)])
        # no readable e-mail ever left, and nobody who did not consent
        sent = " ".join(str(r.params) for r in self.simulator.requests)
        for plain in ("ayse@example.com", "cem@example.com", "deniz@example.com"):
            self.assertNotIn(plain, sent)
        calls = [r for r in self.simulator.requests if r.path.endswith("/users")]
        # a delta: Burak withdraws, Ayşe changes her e-mail, Elif joins
        burak._meta_record_consent("audiences", False, "manual")
        ayse.email = "ayse.yilmaz@example.com"
        elif_ = self.person("Elif Şahin", "elif@example.com")
        self.simulator.clear_requests()
        self.sync()
        self.assertEqual(self.at_meta(), [self.extern(ayse), self.extern(elif_)])
        added = [
            r
            for r in self.simulator.requests
            if r.path.endswith("/users") and r.method == "POST"
        ]
        [payload] = [r.json_param("payload") for r in added]
        self.assertEqual(len(payload["data"]), 2)  # Ayşe (changed) and Elif only
        # a sync with nothing changed sends nothing
        self.simulator.clear_requests()
        self.sync()
        self.assertFalse(
            [r for r in self.simulator.requests if r.path.endswith("/users")]
        )
        # the audit log has one row per call, no personal data
        log = self.audience.log_ids
        self.assertEqual(
            len(log.filtered(lambda r: r.operation in ("add_users", "remove_users"))),
            len(calls) + 2,
        )
        self.assertNotIn("example.com", str(log.read()))

    def test_a_confirmation_never_marks_a_newer_row_of_the_person_sent(self):
        """Ayşe's first row is on its way when she changes her e-mail: Meta
        confirming that first row does not count her new one as sent (were
        its batch to fail, no later sync would send it again)."""
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        self.audience._meta_sync()
        ayse.email = "ayse.yilmaz@example.com"
        self.audience._meta_sync()
        first, retire, second = self.env["meta.outbox"].search(
            [("origin_model", "=", "meta.audience")], order="id"
        )
        # her old e-mail leaves Meta before her new row comes
        self.assertEqual(
            (first | retire | second).mapped("operation"),
            ["add_users", "remove_identifiers", "add_users"],
        )
        first._meta_process()
        self.assertEqual(first.state, "done")
        member = self.env["meta.audience.member"].search(
            [("audience_id", "=", self.audience.id)]
        )
        self.assertFalse(member.sent_at, "her new row is still on its way")
        retire._meta_process()
        self.assertFalse(member.sent_at, "her new row is still on its way")
        second._meta_process()
        self.assertTrue(member.sent_at)
        self.simulator.clear_requests()
        self.sync()
        self.assertFalse(
            [r for r in self.simulator.requests if r.path.endswith("/users")]
        )

    def test_an_erased_person_leaves_every_audience_at_once(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        self.assertEqual(len(self.at_meta()), 1)
        ayse.unlink()
        # no sync needed: the removal is queued by the erasure itself
        self.send_outbox()
        self.assertEqual(self.at_meta(), [])
        removal = self.audience.log_ids.filtered(
            lambda r: r.operation == "remove_users"
        )
        self.assertEqual((removal.rows, removal.received), (1, 1))
        # and the next sync does not send them again
        self.sync()
        self.assertEqual(self.at_meta(), [])

    def test_a_withdrawal_removes_the_person_at_once(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        burak = self.person("Burak Kaya", "burak@example.com")
        self.sync()
        ayse._meta_record_consent("audiences", False, "manual")
        self.send_outbox()
        self.assertEqual(self.at_meta(), [self.extern(burak)])

    def test_terms_not_accepted_is_said_in_words(self):
        self.simulator.set_custom_audience_tos(self.ad_account.external_id, False)
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.audience._meta_sync()
        self.assertEqual(self.audience.state, "error")
        self.assertIn("terms", self.audience.last_sync_result)

    def test_a_salesperson_cannot_read_audiences_nor_their_log(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        for model in ("meta.audience", "meta.audience.log", "meta.audience.member"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.salesman).search([])
        with self.assertRaises(AccessError):
            self.audience.with_user(self.salesman).action_sync_now()

    def test_deleting_an_audience_deletes_it_at_meta_first(self):
        from odoo.exceptions import UserError

        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        ref = self.audience.meta_audience_ref
        self.assertIn(ref, self.simulator.audience_ids())
        # only the Odoo side would leave the people at Meta
        with self.assertRaises(UserError):
            self.audience.unlink()
        with self.assertRaises(AccessError):
            self.audience.with_user(self.salesman).action_delete_at_meta()
        self.audience.with_user(self.meta_admin).action_delete_at_meta()
        self.send_outbox()
        self.assertNotIn(ref, self.simulator.audience_ids())
        self.assertFalse(self.audience.active)
        self.assertFalse(self.audience.meta_audience_ref)
        self.assertFalse(self.audience.member_ids)
        self.assertEqual(self.audience.log_ids[0].operation, "delete_audience")
        log = self.audience.log_ids
        self.audience.unlink()
        self.assertTrue(log.exists(), "the audit log outlives the audience")

    def test_the_audit_log_cannot_be_changed(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        from odoo.exceptions import UserError

        with self.assertRaises(UserError):
            self.audience.log_ids[:1].sudo().write({"rows": 0})
        with self.assertRaises(UserError):
            self.audience.log_ids[:1].sudo().unlink()

    #: what may happen to a person between two syncs (a grant twice as often)
    RANDOM_ACTIONS = (
        "grant",
        "grant",
        "withdraw",
        "object",
        "erase",
        "email",
        "untag",
        "none",
    )

    def random_action(self, partner, rng):
        """One of :attr:`RANDOM_ACTIONS`, drawn from ``rng``, done to ``partner``."""
        action = rng.choice(self.RANDOM_ACTIONS)
        if action == "grant":
            partner._meta_record_consent("audiences", True, "manual")
        elif action == "withdraw":
            partner._meta_record_consent("audiences", False, "manual")
        elif action == "object":
            partner._meta_record_consent("audiences", False, "manual", objection=True)
        elif action == "erase":
            partner.unlink()
        elif action == "email":
            partner.email = f"yeni{rng.randrange(10**6)}@example.com"
        elif action == "untag":
            partner.category_id = [(5,)]

    def may_be_sent(self, people):
        """(extern ids of the tagged, consenting, unsuppressed people still
        alive; every suppressed key)."""
        Suppression = self.env["meta.suppression"]
        alive = [p for p in people if p.exists()]
        states = (
            self.env["res.partner"].browse([p.id for p in alive])._meta_consent_states()
        )
        suppressed = set(Suppression.search([]).mapped("key"))
        allowed = {
            self.extern(p)
            for p in alive
            if self.tag in p.category_id
            and states[p.id]["audiences"] == "granted"
            and not {k for _kind, k in Suppression._meta_keys_of(p)} & suppressed
        }
        return allowed, suppressed

    def assert_uploads_only(self, allowed, suppressed):
        """Every upload request carried only ``allowed`` people, no suppressed hash."""
        for request in self.simulator.requests:
            if not (request.path.endswith("/users") and request.method == "POST"):
                continue
            for row in request.json_param("payload")["data"]:
                self.assertIn(row[-1], allowed)
                self.assertFalse(set(row) & suppressed)

    def test_property_random_consent_histories_never_send_who_may_not_be_sent(self):
        """Random grants, withdrawals, objections, erasures, e-mail changes
        and untagging, synced round after round: Meta always holds exactly
        the consenting, unsuppressed people of the segment, and no request
        ever carried a suppressed or non-consenting person's hash."""
        rng = random.Random(20261203)
        people = [
            self.person(f"Kişi {n}", f"kisi{n}@example.com", consent=None)
            for n in range(12)
        ]
        for _round in range(6):
            for partner in [p for p in people if p.exists()]:
                self.random_action(partner, rng)
            self.simulator.clear_requests()
            self.sync()
            allowed, suppressed = self.may_be_sent(people)
            self.assertEqual(set(self.at_meta()), allowed, f"round {_round}")
            self.assert_uploads_only(allowed, suppressed)

    def test_preview_counts_match_consent_and_usable(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.person("Burak Kaya", "burak@example.com", consent=None)
        self.person("Cem Ak", "", consent=True)  # consents, nothing to match on
        self.audience.invalidate_recordset(["preview"])
        self.assertEqual(
            self.audience.preview,
            "3 partners match, 2 consent, 1 have an identifier Meta can use and "
            "may be sent",
        )

    def test_a_person_erased_with_a_mobile_is_not_sent_again_with_it(self):
        # the mobile where the series has one (18.0), else the one phone
        number = series.PARTNER_PHONE_FIELDS[-1]
        erased = self.person("Ayşe Yılmaz", "ayse@example.com")
        erased[number] = "0532 111 22 33"
        erased.unlink()
        # back with another e-mail, the same number as phone or as mobile
        as_phone = self.person("Ayşe Y.", "ayse.yeni@example.com")
        as_phone.phone = "+90 532 111 22 33"
        as_mobile = self.person("A. Yılmaz", "a.yilmaz@example.com")
        landline = {"phone": "0212 444 55 66"} if number != "phone" else {}
        as_mobile.write({**landline, number: "05321112233"})
        other = self.person("Burak Kaya", "burak@example.com")
        other.phone = "0533 999 88 77"
        self.sync()
        self.assertEqual(self.at_meta(), [self.extern(other)])

    def test_preview_counts_the_latest_decision_of_each_person(self):
        back = self.person("Ayşe Yılmaz", "ayse@example.com")
        back._meta_record_consent("audiences", False, "manual")
        back._meta_record_consent("audiences", True, "portal")
        gone = self.person("Burak Kaya", "burak@example.com")
        gone._meta_record_consent("audiences", False, "portal")
        # measurement consent is another purpose: it does not count here
        other = self.person("Cem Ak", "cem@example.com", consent=None)
        other._meta_record_consent("measurement", True, "manual")
        self.audience.invalidate_recordset(["preview"])
        self.assertEqual(
            self.audience.preview,
            "3 partners match, 1 consent, 1 have an identifier Meta can use and "
            "may be sent",
        )

    def test_preview_of_a_large_segment_says_what_the_last_sync_found(self):
        for n in range(4):
            self.person(f"Kişi {n}", f"kisi{n}@example.com")
        self.sync()
        self.person("Kişi 5", "kisi5@example.com")
        with patch(
            "odoo.addons.meta_graph_connector.models.meta_audience.PREVIEW_ROWS", 3
        ):
            self.audience.invalidate_recordset(["preview"])
            self.assertEqual(
                self.audience.preview,
                "5 partners match, 5 consent; 4 had an identifier Meta can use "
                "and could be sent at the last sync",
            )

    def test_identifiers_are_chosen_by_name_and_fixed_at_meta(self):
        from odoo.exceptions import UserError
        from odoo.tests import Form

        Identifier = self.env["meta.audience.identifier"]
        by_code = {i.code: i for i in Identifier.search([])}
        self.assertEqual(by_code["EMAIL"].with_context(lang="en_US").name, "E-mail")
        self.assertEqual(
            self.audience.identifier_ids.mapped("code"),
            ["EMAIL", "PHONE", "FN", "LN", "CT", "COUNTRY", "EXTERN_ID"],
        )
        with Form(self.audience.with_user(self.meta_admin)) as form:
            form.identifier_ids.remove(id=by_code["CT"].id)
            form.identifier_ids.add(by_code["ZIP"])
        self.assertEqual(
            self.audience.schema, "EMAIL,PHONE,FN,LN,ZIP,COUNTRY,EXTERN_ID"
        )
        with self.assertRaises(UserError):
            self.audience.identifier_ids = by_code["FN"] | by_code["CT"]
        self.audience.invalidate_recordset()
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        sent = [
            r.json_param("payload")["schema"]
            for r in self.simulator.requests
            if r.path.endswith("/users") and r.method == "POST"
        ]
        self.assertEqual(
            sent, [["EMAIL", "PHONE", "FN", "LN", "ZIP", "COUNTRY", "EXTERN_ID"]]
        )
        with self.assertRaises(UserError):
            self.audience.identifier_ids = by_code["EMAIL"]
        # the same keys saved in another order are the same schema: saving
        # the form again changes nothing, even at Meta
        legacy = self.audience.copy(
            {"schema": "PHONE,EMAIL,EXTERN_ID", "name": "Eski sıra"}
        )
        legacy.meta_audience_ref = "120330000000000001"
        legacy.identifier_ids = (
            by_code["EMAIL"] | by_code["PHONE"] | by_code["EXTERN_ID"]
        )
        self.assertEqual(legacy.schema, "PHONE,EMAIL,EXTERN_ID")
        with self.assertRaises(AccessError):
            Identifier.with_user(self.salesman).search([])

    def test_pipeline_segment_proposal_sent_not_won(self):
        proposal = self.env["crm.stage"].create({"name": "Teklif gönderildi"})
        won = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        sent, bought = (
            self.person("Ayşe Yılmaz", "ayse@example.com"),
            self.person("Burak Kaya", "burak@example.com"),
        )
        (sent | bought).category_id = [(5,)]
        for partner, stage in ((sent, proposal), (bought, won)):
            self.env["crm.lead"].create(
                {"name": partner.name, "partner_id": partner.id, "stage_id": stage.id}
            )
        self.audience.write(
            {"segment": "pipeline", "stage_ids": [(6, 0, proposal.ids)]}
        )
        self.sync()
        self.assertEqual(self.at_meta(), [self.extern(sent)])

    def test_a_lookalike_of_the_audience(self):
        for n in range(101):
            self.person(f"Kişi {n}", f"kisi{n}@example.com")
        self.sync()
        lookalike = (
            self.env["meta.audience.lookalike"]
            .with_user(self.meta_admin)
            .create(
                {
                    "audience_id": self.audience.id,
                    "name": "Benzer %1",
                    "country_ids": [(6, 0, self.env.ref("base.tr").ids)],
                    "ratio": 1,
                }
            )
        )
        self.send_outbox()
        self.assertEqual(lookalike.state, "created")
        info = self.simulator.audience(lookalike.meta_audience_ref)
        self.assertEqual(info["subtype"], "LOOKALIKE")
        with self.assertRaises(AccessError):
            self.env["meta.audience.lookalike"].with_user(self.salesman).create(
                {
                    "audience_id": self.audience.id,
                    "name": "x",
                    "country_ids": [(6, 0, self.env.ref("base.tr").ids)],
                }
            )

    def make_lookalike(self, name="Benzer %1"):
        lookalike = (
            self.env["meta.audience.lookalike"]
            .with_user(self.meta_admin)
            .create(
                {
                    "audience_id": self.audience.id,
                    "name": name,
                    "country_ids": [(6, 0, self.env.ref("base.tr").ids)],
                    "ratio": 1,
                }
            )
        )
        self.send_outbox()
        return lookalike

    def test_deleting_an_audience_deletes_its_lookalikes_before_it(self):
        for n in range(101):
            self.person(f"Kişi {n}", f"kisi{n}@example.com")
        self.sync()
        lookalike = self.make_lookalike()
        lookalike_ref, seed_ref = (
            lookalike.meta_audience_ref,
            self.audience.meta_audience_ref,
        )
        mark = len(self.simulator.requests)
        self.audience.with_user(self.meta_admin).action_delete_at_meta()
        self.send_outbox()
        deleted = [
            r.path.rsplit("/", 1)[-1]
            for r in self.simulator.requests[mark:]
            if r.method == "DELETE"
        ]
        self.assertEqual(deleted, [lookalike_ref, seed_ref], "lookalikes first")
        self.assertNotIn(lookalike_ref, self.simulator.audience_ids())
        self.assertEqual(lookalike.state, "deleted")
        self.assertFalse(lookalike.meta_audience_ref)
        self.assertIn("delete_audience", self.audience.log_ids.mapped("operation")[:2])

    def test_deleting_a_lookalike_alone(self):
        for n in range(101):
            self.person(f"Kişi {n}", f"kisi{n}@example.com")
        self.sync()
        kept, deleted = self.make_lookalike("Benzer %1"), self.make_lookalike("%2")
        ref = deleted.meta_audience_ref
        from odoo.exceptions import UserError

        with self.assertRaises(UserError):
            deleted.unlink()  # the Odoo side alone would leave it running
        with self.assertRaises(AccessError):
            deleted.with_user(self.salesman).action_delete_at_meta()
        deleted.with_user(self.meta_admin).action_delete_at_meta()
        self.send_outbox()
        self.assertNotIn(ref, self.simulator.audience_ids())
        self.assertIn(kept.meta_audience_ref, self.simulator.audience_ids())
        self.assertIn(self.audience.meta_audience_ref, self.simulator.audience_ids())
        self.assertEqual((deleted.state, kept.state), ("deleted", "created"))
        deleted.unlink()

    def test_a_full_refresh_replaces_the_people_at_meta(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        burak = self.person("Burak Kaya", "burak@example.com")
        self.sync()
        # a refresh sends the segment as it is now, in one replace session
        burak.category_id = [(5,)]
        self.audience.with_user(self.meta_admin).action_full_refresh()
        self.send_outbox()
        self.assertEqual(self.at_meta(), [self.extern(ayse)])
        replace = [
            r for r in self.simulator.requests if r.path.endswith("/usersreplace")
        ]
        self.assertEqual(len(replace), 1)
        self.assertEqual(
            self.audience.member_ids.mapped("extern_id"), [self.extern(ayse)]
        )
        # then deltas again, from the refreshed state
        self.simulator.clear_requests()
        self.sync()
        self.assertFalse(
            [r for r in self.simulator.requests if r.path.endswith("/users")]
        )

    def test_size_and_status_at_meta_are_refreshed(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        self.audience._meta_refresh_state()
        self.assertTrue(self.audience.size_upper)
        self.assertTrue(self.audience.meta_status)

    def test_a_large_segment_is_streamed_in_chunks_and_batches(self):
        from ..models import meta_audience

        people = [self.person(f"Kişi {n}", f"kisi{n}@example.com") for n in range(5)]
        with (
            patch.object(meta_audience, "PARTNER_CHUNK", 2),
            patch.object(meta_audience, "ROWS_PER_BATCH", 2),
        ):
            self.audience._meta_sync()
        # the sync's progress: its batches waiting, then none once sent
        self.assertEqual(self.audience.batches_waiting, 3)
        self.send_outbox()
        self.audience.invalidate_recordset(["batches_waiting"])
        self.assertEqual(self.audience.batches_waiting, 0)
        self.assertEqual(self.at_meta(), sorted(self.extern(p) for p in people))
        uploads = [
            r
            for r in self.simulator.requests
            if r.path.endswith("/users") and r.method == "POST"
        ]
        self.assertGreaterEqual(len(uploads), 3)
        self.assertTrue(all(len(r.json_param("payload")["data"]) <= 2 for r in uploads))

    def test_a_full_refresh_of_a_large_segment_is_one_session_in_batches(self):
        from odoo.exceptions import UserError

        from ..models import meta_audience

        people = [self.person(f"Kişi {n}", f"kisi{n}@example.com") for n in range(5)]
        self.sync()
        people[0].category_id = [(5,)]
        with (
            patch.object(meta_audience, "PARTNER_CHUNK", 2),
            patch.object(meta_audience, "ROWS_PER_BATCH", 2),
        ):
            self.audience.with_user(self.meta_admin).action_full_refresh()
        self.send_outbox()
        self.assertEqual(self.at_meta(), sorted(self.extern(p) for p in people[1:]))
        sessions = [
            r.json_param("session")
            for r in self.simulator.requests
            if r.path.endswith("/usersreplace")
        ]
        self.assertEqual(len(sessions), 2)
        self.assertEqual(len({s["session_id"] for s in sessions}), 1)
        self.assertEqual(
            [(s["batch_seq"], s["last_batch_flag"]) for s in sessions],
            [(1, False), (2, True)],
        )
        # nobody left to send: refused, and the members stay as they were
        members = self.audience.member_ids
        self.assertEqual(len(members), 4)
        empty = self.env["res.partner.category"].create({"name": "Boş"})
        self.audience.tag_ids = [(6, 0, empty.ids)]
        with self.assertRaises(UserError):
            self.audience.with_user(self.meta_admin).action_full_refresh()
        self.assertEqual(self.audience.member_ids, members)

    def test_one_broken_audience_never_stops_the_others_in_the_cron(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        broken = self.audience.copy(
            {
                "name": "Bozuk",
                "segment": "domain",
                "partner_domain": "[('nope', '=', 1)]",
            }
        )
        with mute_logger("odoo.addons.meta_graph_connector.models.meta_audience"):
            self.env["meta.audience"]._cron_sync_audiences()
        self.send_outbox()
        self.assertEqual(broken.state, "error")
        self.assertEqual(len(self.at_meta()), 1)

    # ------------------------------------------------ issue 20

    def test_a_changed_email_or_phone_takes_the_old_one_out_at_meta(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        ayse.phone = "+90 532 111 22 33"
        burak = self.person("Burak Kaya", "burak@example.com")
        self.sync()
        ref = self.audience.meta_audience_ref
        old_email, old_phone = sha("ayse@example.com"), sha("905321112233")
        self.assertTrue(self.simulator.audience_finds(ref, "EMAIL", old_email))
        ayse.email = "ayse.yilmaz@example.com"
        self.sync()
        # Meta finds her by her new e-mail only; her phone and Burak stay
        self.assertFalse(self.simulator.audience_finds(ref, "EMAIL", old_email))
        self.assertTrue(
            self.simulator.audience_finds(ref, "EMAIL", sha("ayse.yilmaz@example.com"))
        )
        self.assertTrue(self.simulator.audience_finds(ref, "PHONE", old_phone))
        self.assertEqual(len(self.simulator.audience_members(ref)), 2)
        ayse.phone = "+90 532 444 55 66"
        self.sync()
        self.assertFalse(self.simulator.audience_finds(ref, "PHONE", old_phone))
        self.assertTrue(
            self.simulator.audience_finds(ref, "EMAIL", sha("ayse.yilmaz@example.com"))
        )
        self.assertTrue(
            self.simulator.audience_finds(ref, "EMAIL", sha("burak@example.com"))
        )
        self.assertEqual(len(self.audience.member_ids), 2)
        # nothing changed: nothing sent
        self.simulator.clear_requests()
        self.sync()
        self.assertFalse(
            [r for r in self.simulator.requests if r.path.endswith("/users")]
        )
        self.assertTrue(burak)

    def test_extern_id_is_unique_to_the_database_and_stable(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        [extern] = self.at_meta()
        self.assertNotEqual(extern, f"odoo-partner-{ayse.id}")
        self.assertTrue(extern.endswith(f"-{ayse.id}"))
        self.assertNotIn(
            self.env["ir.config_parameter"].sudo().get_param("database.uuid"),
            extern,
            "the database's uuid is not told to Meta",
        )
        # another database, the same partner id: another EXTERN_ID
        self.env["ir.config_parameter"].sudo().set_param(
            "database.uuid", "0c2a1a7e-5f7b-11ef-9d1e-0242ac120002"
        )
        self.env.registry.clear_cache()
        other = self.env["meta.audience"]._meta_person(
            {
                **dict.fromkeys(("name", "email", "phone", "mobile", "city", "zip")),
                **dict.fromkeys(("country_code", "state_code", "state_name")),
                "id": ayse.id,
            }
        )["EXTERN_ID"]
        self.assertNotEqual(other, extern)
        self.assertTrue(other.endswith(f"-{ayse.id}"))

    def test_a_member_synced_under_the_old_extern_id_moves_to_the_new_one(self):
        from ..models.meta_audience import MetaAudience

        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        burak = self.person("Burak Kaya", "burak@example.com")
        current = MetaAudience._meta_person

        def as_before(audience, values):
            return {
                **current(audience, values),
                "EXTERN_ID": f"odoo-partner-{values['id']}",
            }

        with patch.object(MetaAudience, "_meta_person", as_before):
            self.sync()
        ref = self.audience.meta_audience_ref
        self.assertEqual(
            self.at_meta(),
            sorted([f"odoo-partner-{ayse.id}", f"odoo-partner-{burak.id}"]),
        )
        burak.category_id = [(5,)]
        self.sync()
        # Burak's old row left; Ayşe is under her new EXTERN_ID only, still
        # found by her e-mail
        [extern] = self.at_meta()
        self.assertNotEqual(extern, f"odoo-partner-{ayse.id}")
        self.assertFalse(
            self.simulator.audience_finds(ref, "EXTERN_ID", f"odoo-partner-{ayse.id}")
        )
        self.assertFalse(
            self.simulator.audience_finds(ref, "EMAIL", sha("burak@example.com"))
        )
        self.assertTrue(
            self.simulator.audience_finds(ref, "EMAIL", sha("ayse@example.com"))
        )
        self.assertEqual(self.audience.member_ids.mapped("extern_id"), [extern])
        # and then a delta as usual
        self.simulator.clear_requests()
        self.sync()
        self.assertFalse(
            [r for r in self.simulator.requests if r.path.endswith("/users")]
        )

    def test_only_identifiers_odoo_has_data_for_are_offered(self):
        from odoo.exceptions import UserError

        codes = set(self.env["meta.audience.identifier"].search([]).mapped("code"))
        self.assertFalse(codes & {"GEN", "DOBY", "DOBM", "DOBD", "MADID"})
        self.assertLessEqual({"EMAIL", "PHONE", "FN", "LN", "CT", "ZIP"}, codes)
        with self.assertRaises(UserError):
            self.audience.schema = "EMAIL,GEN,EXTERN_ID"
        with self.assertRaises(UserError):
            self.audience.schema = "EMAIL,DOBY"

    def test_the_sync_summary_is_in_the_readers_language(self):
        self.speak_turkish(self.meta_admin)
        self.person("Ayşe Yılmaz", "ayse@example.com")
        # the cron syncs in its own (English) language
        self.audience.with_context(lang="en_US")._meta_sync()
        # the web client reads in its user's language
        audience = self.audience.with_user(self.meta_admin).with_context(lang="tr_TR")
        self.assertEqual(
            audience.last_sync_result,
            "1 eklenecek veya güncellenecek, 0 çıkarılacak.",
        )
        self.assertEqual(
            self.audience.with_context(lang="en_US").last_sync_result,
            "1 to add or update, 0 to remove.",
        )
        self.simulator.set_custom_audience_tos(self.ad_account.external_id, False)
        fresh = self.audience.copy({"name": "Yeni"})
        fresh.with_context(lang="en_US")._meta_sync()
        self.assertEqual(fresh.state, "error")
        self.assertIn("terms", fresh.with_context(lang="en_US").last_sync_result)
        self.assertIn(
            "koşullarını kabul etmedi",
            fresh.with_user(self.meta_admin)
            .with_context(lang="tr_TR")
            .last_sync_result,
        )

    def test_meta_refusal_of_an_upload_shows_its_words(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        self.simulator.flag_audience(self.audience.meta_audience_ref)
        self.person("Burak Kaya", "burak@example.com")
        self.sync()
        self.assertEqual(self.audience.state, "error")
        item = self.env["meta.outbox"].search(
            [("operation", "=", "add_users"), ("state", "=", "dead")]
        )
        self.assertIn("Audience Upload Blocked", item.last_error)
        self.assertIn("Audience Upload Blocked", self.audience.log_ids[0].error)
        self.assertIn("Audience Upload Blocked", self.audience.last_sync_result)
