"""Data migrations between versions, callable from ``migrations/`` and tests.

18.0.2.0.0: a connection used to be a Facebook Page with its Page token
(``meta.account``). It is now the business side (``meta.connection``: the
System User token, its health) owning assets (``meta.asset``: the Page, its
Instagram account, ad accounts, datasets). Every old row becomes a connection
(one per token and company: several Pages connected with one System User
token share it) with a Page asset, and an Instagram asset when it had one;
forms, submissions, CRM leads, webhook events and the chatter follow.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, table_exists

#: (table, old column, new column) of the references to ``meta.account``.
_REFERENCES = (
    ("meta_lead_form", "account_id", "page_id"),
    ("meta_lead", "account_id", "page_id"),
    ("crm_lead", "meta_account_id", "meta_page_id"),
)

_LEGACY_COLUMNS = (
    "id",
    "name",
    "active",
    "company_id",
    "user_id",
    "page_id",
    "page_tasks",
    "instagram_account_id",
    "instagram_username",
    "page_access_token",
    "user_access_token",
    "api_version",
    "state",
    "token_type",
    "granted_scopes",
    "missing_scopes",
    "token_expires_at",
    "data_access_expires_at",
    "last_health_check",
    "last_error",
    "webhook_fields",
)


def migrate_accounts_to_connections(env):
    """Turn every ``meta_account`` row into a connection and its assets.

    :return: {old account id: (connection id, Page asset id)}.
    """
    cr = env.cr
    if not table_exists(cr, "meta_account"):
        return {}
    quiet = {"tracking_disable": True, "mail_create_nolog": True, "active_test": False}
    Connection = env["meta.connection"].sudo().with_context(**quiet)
    Asset = env["meta.asset"].sudo().with_context(**quiet)
    connections, mapping = {}, {}
    for row in _legacy_accounts(cr):
        token = row["user_access_token"] or row["page_access_token"]
        key = (token, row["company_id"])
        connection = connections.get(key)
        if connection is None:
            connection = connections[key] = _create_connection(Connection, row, token)
        page = _create_assets(Asset, connection, row)
        mapping[row["id"]] = (connection.id, page.id)
    env.invalidate_all()
    _remap_references(cr, mapping)
    _move_chatter(env, {old: conn for old, (conn, _page) in mapping.items()})
    _repoint_health_cron(env)
    return mapping


def _legacy_accounts(cr):
    """The ``meta_account`` rows, as dicts of their columns, in id order."""
    cr.execute(
        SQL(
            "SELECT %s FROM meta_account ORDER BY id",
            SQL(", ").join(SQL.identifier(column) for column in _LEGACY_COLUMNS),
        )
    )
    return [dict(zip(_LEGACY_COLUMNS, row, strict=True)) for row in cr.fetchall()]


def _create_connection(Connection, row, token):
    """The connection of an old account ``row`` using ``token``, in the
    state the account was."""
    connection = Connection.create(
        {
            "name": row["name"],
            "active": row["active"],
            "company_id": row["company_id"],
            "user_id": row["user_id"],
            "access_token": token,
            "api_version": row["api_version"],
            "token_type": row["token_type"],
            "granted_scopes": row["granted_scopes"],
            "missing_scopes": row["missing_scopes"],
            "token_expires_at": row["token_expires_at"],
            "data_access_expires_at": row["data_access_expires_at"],
            "last_health_check": row["last_health_check"],
            "last_error": row["last_error"],
        }
    )
    # the state is not a user's choice: set it as it was
    Connection.env.cr.execute(
        "UPDATE meta_connection SET state = %s WHERE id = %s",
        [row["state"] or "connected", connection.id],
    )
    return connection


def _create_assets(Asset, connection, row):
    """The Page asset of an old account ``row`` under ``connection``, and its
    Instagram asset when it had one: the Page."""
    page = Asset.create(
        {
            "name": row["name"],
            "active": row["active"],
            "connection_id": connection.id,
            "asset_type": "page",
            "external_id": row["page_id"],
            "access_token": row["page_access_token"],
            "page_tasks": row["page_tasks"],
            "webhook_fields": row["webhook_fields"],
        }
    )
    if row["instagram_account_id"]:
        Asset.create(
            {
                "name": row["instagram_username"] or row["instagram_account_id"],
                "connection_id": connection.id,
                "asset_type": "instagram",
                "external_id": row["instagram_account_id"],
                "username": row["instagram_username"],
                "parent_id": page.id,
            }
        )
    return page


def _remap_references(cr, mapping):
    if not mapping:
        return
    pairs = SQL(", ").join(
        SQL("(%s, %s)", old, page) for old, (_c, page) in mapping.items()
    )
    for table, old, new in _REFERENCES:
        if not column_exists(cr, table, old):
            continue
        cr.execute(
            SQL(
                """UPDATE %(table)s t SET %(new)s = m.page
                     FROM (VALUES %(pairs)s) AS m(old, page)
                    WHERE t.%(old)s = m.old""",
                table=SQL.identifier(table),
                new=SQL.identifier(new),
                old=SQL.identifier(old),
                pairs=pairs,
            )
        )
    # the lead forms' stored related fields, written here as SQL wrote pages
    cr.execute(
        """UPDATE meta_lead_form f
              SET connection_id = a.connection_id, company_id = a.company_id
             FROM meta_asset a
            WHERE a.id = f.page_id"""
    )
    cr.execute("SELECT 1 FROM meta_lead_form WHERE page_id IS NULL LIMIT 1")
    if not cr.fetchone():
        # the ORM could not set it while the column was still empty
        cr.execute("ALTER TABLE meta_lead_form ALTER COLUMN page_id SET NOT NULL")
    # events go to the asset their entry named (a Page or its Instagram)
    cr.execute(
        """UPDATE meta_webhook_event e
              SET asset_id = a.id, connection_id = a.connection_id,
                  company_id = a.company_id
             FROM meta_asset a
            WHERE a.external_id = e.external_account_id
              AND a.asset_type IN ('page', 'instagram')"""
    )


def _move_chatter(env, connection_of):
    """Messages, followers, activities and attachments of the old records
    go to their connection."""
    if not connection_of:
        return
    cr = env.cr
    pairs = SQL(", ").join(
        SQL("(%s, %s)", old, new) for old, new in connection_of.items()
    )
    for table, model_column in (
        ("mail_message", "model"),
        ("mail_followers", "res_model"),
        ("mail_activity", "res_model"),
        ("ir_attachment", "res_model"),
    ):
        cr.execute(
            SQL(
                """UPDATE %(table)s t SET %(model)s = 'meta.connection', res_id = m.new
                     FROM (VALUES %(pairs)s) AS m(old, new)
                    WHERE t.%(model)s = 'meta.account' AND t.res_id = m.old""",
                table=SQL.identifier(table),
                model=SQL.identifier(model_column),
                pairs=pairs,
            )
        )
    model = env["ir.model"]._get("meta.connection")
    cr.execute(
        "UPDATE mail_activity SET res_model_id = %s"
        " WHERE res_model = 'meta.connection'",
        [model.id],
    )


def _repoint_health_cron(env):
    """The health cron is ``noupdate``: point it at the connections, or it
    would be deleted with the old model."""
    cron = env.ref("meta_graph_connector.ir_cron_meta_check_health", False)
    model = env["ir.model"]._get("meta.connection")
    if cron and model:
        cron.sudo().write({"model_id": model.id, "code": "model._cron_check_health()"})
