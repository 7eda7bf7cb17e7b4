import importlib.util
from pathlib import Path

from odoo.tests import tagged
from odoo.tools.convert import convert_file

from .. import series
from ..data_migrations import migrate_accounts_to_connections
from ..graph.webhook import parse_delivery
from .common import MetaTransactionCase

LEGACY_TABLE = """
CREATE TABLE meta_account (
    id serial PRIMARY KEY, name varchar, active boolean, company_id integer,
    user_id integer, page_id varchar, page_tasks varchar,
    instagram_account_id varchar, instagram_username varchar,
    page_access_token varchar, user_access_token varchar, api_version varchar,
    state varchar, token_type varchar, granted_scopes varchar,
    missing_scopes varchar, token_expires_at timestamp,
    data_access_expires_at timestamp, last_health_check timestamp,
    last_error text, webhook_fields varchar
)"""


@tagged("post_install", "-at_install")
class TestUpgrade(MetaTransactionCase):
    """A database of 18.0.1.x (Page connections in ``meta_account``, forms,
    submissions, CRM leads, events and chatter pointing at them) upgraded:
    nothing is lost. The DDL is part of the test's transaction."""

    def _legacy_database(self):
        cr = self.env.cr
        cr.execute(LEGACY_TABLE)
        for table, column in (
            ("meta_lead_form", "account_id"),
            ("meta_lead", "account_id"),
            ("crm_lead", "meta_account_id"),
        ):
            cr.execute(f"ALTER TABLE {table} ADD COLUMN {column} integer")  # noqa: S608
        cr.execute("ALTER TABLE meta_lead_form ALTER COLUMN page_id DROP NOT NULL")
        company = self.env.company.id
        accounts = []
        for page_id, ig_id, name in (
            ("555000111", "17841400000009001", "Eski Sayfa"),
            ("555000222", None, "Eski Sayfa 2"),
        ):
            cr.execute(
                """INSERT INTO meta_account
                     (name, active, company_id, user_id, page_id, page_tasks,
                      instagram_account_id, instagram_username, page_access_token,
                      user_access_token, api_version, state, token_type,
                      granted_scopes, webhook_fields)
                   VALUES (%s, true, %s, %s, %s, 'MANAGE', %s, %s, %s,
                           'SYSTEM-TOKEN', 'v25.0', 'needs_reconnect', 'PAGE',
                           'leads_retrieval', 'leadgen')
                   RETURNING id""",
                [
                    name,
                    company,
                    self.meta_admin.id,
                    page_id,
                    ig_id,
                    "eski.sayfa" if ig_id else None,
                    f"PAGE-TOKEN-{page_id}",
                ],
            )
            accounts.append(cr.fetchone()[0])
        return accounts

    def _records_of_the_old_version(self, old_first, old_second):
        """A form, a submission and its CRM lead, an event and a chatter
        message, pointing at the old Page connections as 18.0.1.x wrote them."""
        cr = self.env.cr
        form = self.env["meta.lead.form"].create(
            {"name": "Eski Form", "page_id": self.page.id, "meta_form_id": "4444"}
        )
        lead = self.env["crm.lead"].create({"name": "Eski aday"})
        binding = self.env["meta.lead"].create(
            {"leadgen_id": "900000000077777", "lead_id": lead.id}
        )
        event_ids = self.env["meta.webhook.event"]._meta_store_events(
            parse_delivery(self.leadgen_delivery(1, page_id="555000111"))
        )
        self.env.flush_all()
        cr.execute(
            "UPDATE meta_lead_form SET page_id = NULL, account_id = %s WHERE id = %s",
            [old_first, form.id],
        )
        cr.execute(
            "UPDATE meta_lead SET account_id = %s WHERE id = %s",
            [old_first, binding.id],
        )
        cr.execute(
            "UPDATE crm_lead SET meta_account_id = %s WHERE id = %s",
            [old_second, lead.id],
        )
        message = self.env["mail.message"].create(
            {"model": "res.partner", "res_id": 1, "body": "eski not"}
        )
        self.env.flush_all()
        # written as the previous version did: on the old model's record
        cr.execute(
            "UPDATE mail_message SET model = 'meta.account', res_id = %s WHERE id = %s",
            [old_first, message.id],
        )
        self.env.invalidate_all()
        return form, lead, binding, event_ids, message

    def _assert_one_connection_and_its_assets(self, mapping, old_first, old_second):
        """Both old Page connections (one token) became one connection with
        the Pages and the Instagram account as assets; (connection, first Page)."""
        connection_id, page_id = mapping[old_first]
        self.assertEqual(
            mapping[old_second][0], connection_id, "one token, one connection"
        )
        connection = self.env["meta.connection"].browse(connection_id)
        self.assertEqual(connection.sudo().access_token, "SYSTEM-TOKEN")
        self.assertEqual(connection.state, "needs_reconnect")
        self.assertEqual(connection.api_version, "v25.0")
        self.assertEqual(connection.user_id, self.meta_admin)
        page = self.env["meta.asset"].browse(page_id)
        self.assertEqual(
            (page.asset_type, page.external_id, page.sudo().access_token),
            ("page", "555000111", "PAGE-TOKEN-555000111"),
        )
        instagram = page.child_ids
        self.assertEqual(instagram.asset_type, "instagram")
        self.assertEqual(instagram.username, "eski.sayfa")
        self.assertEqual(len(connection.asset_ids), 3)
        return connection, page

    def test_page_connections_become_connections_and_assets(self):
        old_first, old_second = self._legacy_database()
        form, lead, binding, event_ids, message = self._records_of_the_old_version(
            old_first, old_second
        )

        mapping = migrate_accounts_to_connections(self.env)

        connection, page = self._assert_one_connection_and_its_assets(
            mapping, old_first, old_second
        )
        self.env.invalidate_all()
        self.assertEqual(form.page_id, page)
        self.assertEqual(form.connection_id, connection)
        self.assertEqual(binding.page_id, page)
        self.assertEqual(lead.meta_page_id.external_id, "555000222")
        event = self.env["meta.webhook.event"].browse(event_ids)
        self.assertEqual(event.asset_id, page)
        self.assertEqual(event.connection_id, connection)
        self.assertEqual(
            (message.model, message.res_id), ("meta.connection", connection.id)
        )
        health = self.env.ref("meta_graph_connector.ir_cron_meta_check_health")
        self.assertEqual(health.model_id.model, "meta.connection")

    def test_nothing_to_migrate_on_a_fresh_database(self):
        self.assertEqual(migrate_accounts_to_connections(self.env), {})


@tagged("post_install", "-at_install")
class TestUpgradeConversionEvents(MetaTransactionCase):
    """A database of 18.0.2.0.0 had no conversion event on its stages: the
    upgrade names them as a new install does, and keeps the names an
    administrator already chose."""

    def test_upgrade_names_the_stages(self):
        stages = self.env["crm.stage"].with_context(active_test=False).search([])
        chosen = stages[0]
        stages.meta_conversion_event = False
        chosen.meta_conversion_event = "Qualified Lead"
        # the script Odoo runs on upgrade (its folder name is not a package)
        path = Path(__file__).parent.parent / "migrations/18.0.2.1.0/post-migrate.py"
        spec = importlib.util.spec_from_file_location("post_migrate_2_1", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.2.0.0")

        for stage in stages - chosen:
            self.assertEqual(
                stage.meta_conversion_event,
                stage.with_context(lang="en_US").name,
            )
        self.assertEqual(chosen.meta_conversion_event, "Qualified Lead")


@tagged("post_install", "-at_install")
class TestUpgradeOutboxKeys(MetaTransactionCase):
    """Items queued before 18.0.2.2.0 spelt their ordering keys five ways:
    after the upgrade they run in order with the items queued since."""

    def test_unfinished_items_keep_their_place_in_line(self):
        comment = self.env["meta.social.comment"].create(
            {
                "asset_id": self.page.id,
                "comment_ref": "5555_1",
                "platform": "facebook",
                "text": "Fiyat?",
            }
        )
        audience_id = 7
        Outbox = self.env["meta.outbox"].sudo()
        old = {
            f"page:{self.page.id}": f"meta.asset:{self.page.id}",
            "conversation:12": "discuss.channel:12",
            f"audience-{audience_id}": f"meta.audience:{audience_id}",
            "lead_form:4": "meta.lead.form:4",
            "comment-5555_1": f"meta.social.comment:{comment.id}",
        }
        items = {
            key: Outbox.create(
                {
                    "asset_id": self.page.id,
                    "operation": "subscribe_page",
                    "ordering_key": key,
                }
            )
            for key in old
        }
        path = Path(__file__).parent.parent / "migrations/18.0.2.2.0/post-migrate.py"
        spec = importlib.util.spec_from_file_location("post_migrate_2_2", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.2.1.0")
        Outbox.invalidate_model(["ordering_key"])
        for key, item in items.items():
            self.assertEqual(item.ordering_key, old[key])
        # the one spelling the origins give today
        self.assertEqual(
            comment._meta_outbox_ordering_key("comment_hide"), old["comment-5555_1"]
        )
        self.assertEqual(
            self.page._meta_outbox_ordering_key("subscribe_page"),
            f"meta.asset:{self.page.id}",
        )


@tagged("post_install", "-at_install")
class TestUpgradeImportJobs(MetaTransactionCase):
    """Before 18.0.2.2.0 the imports kept their state in columns of
    ``meta_asset``: the upgrade makes their jobs from them, so an unfinished
    import resumes where it stopped."""

    def test_unfinished_imports_resume_from_the_old_columns(self):
        Job = self.env["meta.import.job"].sudo()
        Job.search([]).unlink()
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """ALTER TABLE meta_asset
                 ADD COLUMN comment_import_state varchar,
                 ADD COLUMN comment_import_since timestamp,
                 ADD COLUMN comment_import_cursor varchar,
                 ADD COLUMN comment_import_posts_listed boolean,
                 ADD COLUMN comment_import_error varchar,
                 ADD COLUMN inbox_import_state varchar,
                 ADD COLUMN inbox_import_cursor varchar,
                 ADD COLUMN inbox_import_error varchar"""
        )
        cr.execute(
            """UPDATE meta_asset
                  SET comment_import_state = 'running',
                      comment_import_since = '2026-11-01 00:00:00',
                      comment_import_cursor = 'QVFIa', inbox_import_state = 'failed',
                      inbox_import_error = 'Kapalı'
                WHERE id = %s""",
            [self.page.id],
        )
        cr.execute(
            """UPDATE meta_asset
                  SET comment_import_state = 'running',
                      comment_import_posts_listed = true,
                      inbox_import_state = 'running', inbox_import_cursor = 'Q2'
                WHERE id = %s""",
            [self.instagram.id],
        )
        path = Path(__file__).parent.parent / "migrations/18.0.2.2.0/post-migrate.py"
        spec = importlib.util.spec_from_file_location("post_migrate_2_2", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(cr, "18.0.2.1.0")
        self.env.invalidate_all()
        jobs = {(job.asset_id, job.kind): job for job in Job.search([])}
        page_comments = jobs[self.page, "comments"]
        self.assertEqual(page_comments.state, "running")
        self.assertEqual(page_comments.cursor, "posts:QVFIa")
        self.assertEqual(str(page_comments.since), "2026-11-01 00:00:00")
        self.assertEqual(page_comments.company_id, self.page.company_id)
        self.assertEqual(jobs[self.page, "conversations"].state, "failed")
        self.assertEqual(self.page.inbox_import_error, "Kapalı")
        self.assertEqual(jobs[self.instagram, "comments"].cursor, "comments")
        self.assertEqual(jobs[self.instagram, "conversations"].cursor, "Q2")
        # run again (an upgrade retried): nothing doubles
        migration.migrate(cr, "18.0.2.1.0")
        assets = self.page | self.instagram
        self.assertEqual(Job.search_count([("asset_id", "in", assets.ids)]), 4)


@tagged("post_install", "-at_install")
class TestGroupsAcrossSeries(MetaTransactionCase):
    """An 18.0 database upgraded to 19.0 has its groups under a module
    category, which 19.0 no longer reads (a group's place is a privilege
    there): the groups' data file, loaded again by the update, gives each
    group its place on the running series and keeps its members."""

    def test_the_update_places_the_groups_and_keeps_their_members(self):
        group = self.env.ref("meta_graph_connector.group_meta_admin")
        place = "privilege_id" if "privilege_id" in group._fields else "category_id"
        member = self.meta_admin
        self.assertIn(member, series.group_users(group))
        # as the upgrade leaves it: no place the running series reads
        group[place] = False
        convert_file(
            self.env,
            "meta_graph_connector",
            "security/meta_graph_connector_groups.xml",
            {},
            mode="update",
        )
        self.assertTrue(group[place])
        self.assertEqual(
            group[place].display_name if place == "category_id" else group[place].name,
            "Meta",
        )
        self.assertIn(member, series.group_users(group), "its members stay")
        self.assertIn(self.env.ref("base.user_admin"), series.group_users(group))
