"""18.0.2.2.0: the outbox's ordering keys have one spelling, the record the
items queue behind (``meta.audience:7``, see models/meta_outbox_origin.py).
Items written before spelt them five ways (``page:3``, ``audience-7``,
``comment-<Meta id>``…): an unfinished one would no longer run in order with
the items queued after the upgrade, so every key is spelt again."""

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
