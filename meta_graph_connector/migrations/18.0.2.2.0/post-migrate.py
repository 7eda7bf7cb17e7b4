"""18.0.2.2.0: the outbox's ordering keys have one spelling, the record the
items queue behind (``meta.audience:7``, see models/meta_outbox_origin.py).
Items written before spelt them five ways (``page:3``, ``audience-7``,
``comment-<Meta id>``…): an unfinished one would no longer run in order with
the items queued after the upgrade, so every key is spelt again.

The imports of comments and conversations kept their state in columns of
``meta_asset``; it is now a ``meta.import.job`` per asset and kind, made
here from those columns (left in the table) so that an unfinished import
resumes where it stopped."""

from odoo.tools.sql import column_exists

RENAMES = (
    ("page:", "meta.asset:"),
    ("conversation:", "discuss.channel:"),
    ("audience-", "meta.audience:"),
    ("lead_form:", "meta.lead.form:"),
)


def migrate(cr, version):
    for old, new in RENAMES:
        cr.execute(
            """UPDATE meta_outbox
                  SET ordering_key = %s || substr(ordering_key, %s)
                WHERE ordering_key LIKE %s""",
            [new, len(old) + 1, old.replace("_", r"\_") + "%"],
        )
    # a comment was keyed by its Meta id, unique within its Page or account
    cr.execute(
        """UPDATE meta_outbox o
              SET ordering_key = 'meta.social.comment:' || c.id
             FROM meta_social_comment c
            WHERE o.ordering_key = 'comment-' || c.comment_ref
              AND c.asset_id = o.asset_id"""
    )
    _import_jobs_from_asset_columns(cr)


#: kind: SQL of the job's state, cursor, window and error from meta_asset's
#: columns (a comment import listed its posts, then read each post's pages)
IMPORT_COLUMNS = {
    "comments": (
        "comment_import_state",
        """CASE WHEN comment_import_posts_listed THEN 'comments'
                WHEN comment_import_cursor IS NOT NULL
                THEN 'posts:' || comment_import_cursor END""",
        "comment_import_since",
        "comment_import_error",
    ),
    "conversations": (
        "inbox_import_state",
        "inbox_import_cursor",
        "NULL::timestamp",
        "inbox_import_error",
    ),
}


def _import_jobs_from_asset_columns(cr):
    for kind, (state, cursor, since, error) in IMPORT_COLUMNS.items():
        if not column_exists(cr, "meta_asset", state):
            continue
        cr.execute(
            f"""INSERT INTO meta_import_job
                   (asset_id, connection_id, company_id, kind, state, cursor,
                    since, last_error, attempts, create_date, write_date)
                SELECT id, connection_id, company_id, %s,
                       COALESCE({state}, 'pending'), {cursor}, {since},
                       {error}, 0, now() at time zone 'UTC',
                       now() at time zone 'UTC'
                  FROM meta_asset
                 WHERE asset_type IN ('page', 'instagram')
                ON CONFLICT (asset_id, kind) DO NOTHING""",  # noqa: S608 - constants
            [kind],
        )
