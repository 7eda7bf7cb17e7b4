"""Meta operations the addon performs, on top of :class:`GraphClient`.

Each function knows one Graph endpoint (path, fields, answer shape) and returns
plain Python values, so the Odoo layer never spells a Graph URL itself.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from . import const
from .errors import UnknownGraphError
from .ids import is_node_id, node_id
from .social import read_page
from .times import parse_expiry
from .webhook import fields_for_kinds


@dataclass(frozen=True)
class TokenInfo:
    """What ``debug_token`` says about a token (docs/meta-facts.md §2.2)."""

    is_valid: bool
    app_id: str = ""
    token_type: str = ""
    profile_id: str = ""
    scopes: tuple = ()
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    error_code: int | None = None
    error_subcode: int | None = None
    error_message: str = ""
    granular_scopes: tuple = field(default=(), compare=False)

    def missing_scopes(self, required):
        return tuple(scope for scope in required if scope not in self.scopes)


def inspect_token(app_client, input_token):
    """Inspect ``input_token`` with an app-token client (``GET /debug_token``)."""
    answer = app_client.get("debug_token", {"input_token": input_token})
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise UnknownGraphError("debug_token answered without data")
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    return TokenInfo(
        is_valid=bool(data.get("is_valid")),
        app_id=str(data.get("app_id") or ""),
        token_type=str(data.get("type") or ""),
        profile_id=str(data.get("profile_id") or data.get("user_id") or ""),
        scopes=tuple(str(s) for s in data.get("scopes") or ()),
        expires_at=parse_expiry(data.get("expires_at")),
        data_access_expires_at=parse_expiry(data.get("data_access_expires_at")),
        error_code=error.get("code"),
        error_subcode=error.get("subcode") or error.get("error_subcode"),
        error_message=str(error.get("message") or ""),
        granular_scopes=tuple(data.get("granular_scopes") or ()),
    )


def get_me(user_client):
    """The token's user (a System User or a person): ``{"id", "name"}``."""
    return user_client.get("me", {"fields": "id,name"})


@dataclass(frozen=True)
class PageInfo:
    """A Page the token can manage, as listed by ``/me/accounts``."""

    page_id: str
    name: str
    access_token: str = field(repr=False, default="")
    tasks: tuple = ()
    instagram_id: str = ""
    instagram_username: str = ""


def list_pages(user_client):
    """Pages (with their Page tokens) a user or system-user token manages."""
    fields = "id,name,access_token,tasks,instagram_business_account{id,username}"
    pages = []
    for item in user_client.paginate("me/accounts", {"fields": fields, "limit": 100}):
        instagram = item.get("instagram_business_account") or {}
        pages.append(
            PageInfo(
                page_id=str(item.get("id") or ""),
                name=str(item.get("name") or ""),
                access_token=str(item.get("access_token") or ""),
                tasks=tuple(item.get("tasks") or ()),
                instagram_id=str(instagram.get("id") or ""),
                instagram_username=str(instagram.get("username") or ""),
            )
        )
    return [page for page in pages if is_node_id(page.page_id)]


@dataclass(frozen=True)
class AssetInfo:
    """A business asset other than a Page: an ad account or a dataset."""

    asset_type: str  # "ad_account" | "dataset" | "business"
    external_id: str
    name: str
    currency: str = ""
    account_status: int | None = None
    business_id: str = ""


_AD_ACCOUNT_FIELDS = "id,account_id,name,currency,account_status,business{id,name}"
_DATASET_FIELDS = "id,name"


def list_businesses(user_client):
    """Business portfolios the token can see (``business_management``;
    https://developers.facebook.com/docs/graph-api/reference/user/businesses/)."""
    return [
        AssetInfo("business", str(item.get("id") or ""), str(item.get("name") or ""))
        for item in user_client.paginate("me/businesses", {"fields": "id,name"})
        if is_node_id(str(item.get("id") or ""))
    ]


def list_ad_accounts(user_client, business_id=None, edge="owned_ad_accounts"):
    """Ad accounts the token was granted (``me/adaccounts``), or a business's
    owned or client ones
    (https://developers.facebook.com/docs/marketing-api/reference/business/owned_ad_accounts/)."""
    path = (
        f"{node_id(business_id, 'business id')}/{edge}"
        if business_id
        else "me/adaccounts"
    )
    accounts = []
    for item in user_client.paginate(path, {"fields": _AD_ACCOUNT_FIELDS}):
        external_id = str(item.get("id") or "")
        if not is_node_id(external_id):
            continue
        status = item.get("account_status")
        accounts.append(
            AssetInfo(
                "ad_account",
                external_id,
                str(item.get("name") or external_id),
                currency=str(item.get("currency") or ""),
                account_status=status if isinstance(status, int) else None,
                business_id=str((item.get("business") or {}).get("id") or ""),
            )
        )
    return accounts


def list_datasets(user_client, owner_id):
    """Datasets (pixels) of a business (``owned_pixels``) or of an ad account
    (``adspixels``), for the Conversions API
    (https://developers.facebook.com/docs/marketing-api/reference/ads-pixel/)."""
    owner_id = node_id(owner_id, "business or ad account id")
    edge = "adspixels" if owner_id.startswith("act_") else "owned_pixels"
    return [
        AssetInfo("dataset", str(item.get("id")), str(item.get("name") or item["id"]))
        for item in user_client.paginate(
            f"{owner_id}/{edge}", {"fields": _DATASET_FIELDS}
        )
        if is_node_id(str(item.get("id") or ""))
    ]


def page_fields(kinds, scopes=None):
    """The Page webhook fields to subscribe for the event ``kinds`` handled,
    among those a token with ``scopes`` may subscribe, in a stable order.

    Meta refuses a whole ``subscribed_apps`` call when one field needs a
    permission the token lacks
    (https://developers.facebook.com/docs/graph-api/reference/page/subscribed_apps/);
    ``scopes=None`` (not inspected yet) allows every field.
    """
    fields = fields_for_kinds("page", kinds)
    if scopes is None:
        return fields
    granted = set(scopes)
    return tuple(
        name for name in fields if const.PAGE_FIELD_SCOPES.get(name) in (None, *granted)
    )


def subscribe_page(page_client, page_id, fields):
    """Subscribe the app to a Page's webhook ``fields`` (replacing the set)."""
    answer = page_client.post(
        f"{node_id(page_id, 'Page id')}/subscribed_apps",
        data={"subscribed_fields": ",".join(fields)},
        idempotent=True,  # subscribing twice is harmless
    )
    return bool(isinstance(answer, dict) and answer.get("success"))


def page_subscriptions(page_client, page_id, app_id=None):
    """Fields the app (or every app when ``app_id`` is None) is subscribed to."""
    answer = page_client.get(f"{node_id(page_id, 'Page id')}/subscribed_apps")
    fields = set()
    for app in answer.get("data") or ():
        if app_id and str(app.get("id")) != str(app_id):
            continue
        fields.update(app.get("subscribed_fields") or ())
    return fields


def unsubscribe_page(page_client, page_id):
    answer = page_client.delete(f"{node_id(page_id, 'Page id')}/subscribed_apps")
    return bool(isinstance(answer, dict) and answer.get("success"))


def list_lead_forms(page_client, page_id, fields=const.FORM_FIELDS):
    """Every lead form of a Page (§5.2)."""
    return list(
        page_client.paginate(
            f"{node_id(page_id, 'Page id')}/leadgen_forms",
            {"fields": ",".join(fields), "limit": 50},
        )
    )


def get_lead_form(page_client, form_id, fields=const.FORM_FIELDS):
    return page_client.get(node_id(form_id, "form id"), {"fields": ",".join(fields)})


def get_lead(page_client, leadgen_id, fields=const.LEAD_FIELDS):
    """One lead with its answers and ad attribution (§5.1)."""
    return page_client.get(node_id(leadgen_id, "lead id"), {"fields": ",".join(fields)})


def get_leads(page_client, leadgen_ids, fields=const.LEAD_FIELDS):
    """Several leads, read in batch requests (§9.3,
    https://developers.facebook.com/docs/graph-api/batch-requests/): one
    :class:`~.client.BatchResult` per id, in order, each with its lead or
    its own error (Meta answers each call of a batch on its own)."""
    query = "fields=" + ",".join(fields)
    return page_client.batch(
        {"method": "GET", "relative_url": f"{node_id(leadgen_id, 'lead id')}?{query}"}
        for leadgen_id in leadgen_ids
    )


def form_leads_page(
    page_client,
    form_id,
    *,
    since=None,
    until=None,
    after=None,
    fields=const.LEAD_FIELDS,
    limit=100,
):
    """One page of a form's leads created in ``[since, until]`` (aware
    datetimes or Unix seconds, both optional), newest first as Meta pages
    them: (leads, Meta's cursor of the next page or None). A page at a time,
    so a synchronisation stores where it stopped; the next page is asked with
    the same window and ``after``.

    ``filtering`` on ``time_created`` (https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving/):
    ``GREATER_THAN_OR_EQUAL`` so a lead created in the watermark's own second
    is not skipped, ``LESS_THAN`` the second after ``until`` so an interrupted
    run resumes with the second it stopped in. Callers dedupe by lead id.
    """
    params = _form_leads_params(since, until, fields, limit)
    return read_page(page_client, f"{node_id(form_id, 'form id')}/leads", params, after)


def _form_leads_params(since, until, fields, limit):
    params = {"fields": ",".join(fields), "limit": limit}
    rules = []
    if since is not None:
        rules.append(
            {
                "field": "time_created",
                "operator": "GREATER_THAN_OR_EQUAL",
                "value": _unix(since),
            }
        )
    if until is not None:
        rules.append(
            {
                "field": "time_created",
                "operator": "LESS_THAN",
                "value": _unix(until) + 1,
            }
        )
    if rules:
        params["filtering"] = json.dumps(rules)
    return params


def create_test_lead(page_client, form_id):
    """Ask Meta for a test lead of a form; Meta then sends its ``leadgen``
    webhook (https://developers.facebook.com/docs/marketing-api/guides/lead-ads/testing-troubleshooting/).
    """
    return page_client.post(f"{node_id(form_id, 'form id')}/test_leads")


def _unix(value):
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)
