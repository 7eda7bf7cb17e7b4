"""Business assets: businesses, ad accounts, datasets, and the edges that
list them, for a client discovering what a System User token reaches.

https://developers.facebook.com/docs/graph-api/reference/user/businesses/,
https://developers.facebook.com/docs/marketing-api/reference/user/adaccounts,
https://developers.facebook.com/docs/marketing-api/reference/business/owned_ad_accounts/,
https://developers.facebook.com/docs/marketing-api/reference/business/client_ad_accounts/,
https://developers.facebook.com/docs/marketing-api/reference/ad-account/,
https://developers.facebook.com/docs/marketing-api/reference/ads-pixel/
"""

import time

from ..fields import Ref
from ..graph import ROUTES
from ..paging import paginate
from ..store import AD_ACCOUNT_NODE, BUSINESS_NODE, DATASET_NODE, PAGE_NODE, USER_NODE
from .pages import PAGE_DEFAULT_FIELDS, page_full

BUSINESS_DEFAULT_FIELDS = ("id", "name")
AD_ACCOUNT_DEFAULT_FIELDS = ("id", "account_id")
DATASET_DEFAULT_FIELDS = ("id",)
#: Listing ad accounts needs one of these (Marketing API).
_ADS_SCOPES = ("ads_management", "ads_read")


def _iso(timestamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(int(timestamp)))


def business_full(business) -> dict:
    return {
        "id": business.id,
        "name": business.name,
        "created_time": _iso(business.created_time),
        "verification_status": "not_verified",
    }


def ad_account_full(store, account) -> dict:
    business = store.businesses.get(account.business_id or "")
    return {
        "id": account.id,
        "account_id": account.account_id,
        "name": account.name,
        "currency": account.currency,
        "account_status": account.account_status,
        "timezone_name": account.timezone_name,
        "business": Ref(BUSINESS_NODE, business_full(business)) if business else None,
        # Accepted terms by name; Custom Audience terms as docs/meta-facts.md
        # §7.1 (none accepted: the field is left out) [U].
        "tos_accepted": {"custom_audience_tos": 1}
        if account.custom_audience_tos
        else None,
    }


def dataset_full(dataset) -> dict:
    return {
        "id": dataset.id,
        "name": dataset.name,
        "creation_time": _iso(dataset.creation_time),
        "last_fired_time": _iso(dataset.last_fired_time)
        if dataset.last_fired_time
        else None,
    }


def _list(call, items, render):
    keys = [(index,) for index in range(len(items))]
    return paginate(call, keys, items, render)


def _render_ad_account(call):
    store = call.store
    return lambda account: call.render(
        ad_account_full(store, account), AD_ACCOUNT_DEFAULT_FIELDS, AD_ACCOUNT_NODE
    )


def _render_dataset(call):
    return lambda dataset: call.render(
        dataset_full(dataset), DATASET_DEFAULT_FIELDS, DATASET_NODE
    )


# --- the token's user --------------------------------------------------------


@ROUTES.node("GET", USER_NODE, "businesses")
def me_businesses(call):
    call.require_scope("business_management")
    business = call.store.businesses.get(call.token.business_id or "")
    items = [business] if business else []
    return _list(
        call,
        items,
        lambda b: call.render(business_full(b), BUSINESS_DEFAULT_FIELDS, BUSINESS_NODE),
    )


@ROUTES.node("GET", USER_NODE, "adaccounts")
def me_adaccounts(call):
    """Ad accounts granted to the user or system user."""
    call.require_scope(*_ADS_SCOPES)
    store = call.store
    items = [
        store.ad_accounts[a] for a in call.token.ad_accounts if a in store.ad_accounts
    ]
    return _list(call, items, _render_ad_account(call))


# --- a business --------------------------------------------------------------


@ROUTES.node("GET", BUSINESS_NODE)
def business_node(call):
    return call.render(business_full(call.node), BUSINESS_DEFAULT_FIELDS, BUSINESS_NODE)


@ROUTES.node("GET", BUSINESS_NODE, "owned_ad_accounts")
def owned_ad_accounts(call):
    call.require_scope("business_management")
    items = [
        a for a in call.store.ad_accounts.values() if a.business_id == call.node.id
    ]
    return _list(call, items, _render_ad_account(call))


@ROUTES.node("GET", BUSINESS_NODE, "client_ad_accounts")
def client_ad_accounts(call):
    call.require_scope("business_management")
    items = [
        a
        for a in call.store.ad_accounts.values()
        if call.node.id in a.client_business_ids
    ]
    return _list(call, items, _render_ad_account(call))


@ROUTES.node("GET", BUSINESS_NODE, "owned_pages")
def owned_pages(call):
    call.require_scope("business_management")
    store = call.store
    items = [
        p for p in store.pages.values() if store.page_business.get(p.id) == call.node.id
    ]
    return _list(
        call,
        items,
        lambda p: call.render(page_full(call, p), PAGE_DEFAULT_FIELDS, PAGE_NODE),
    )


@ROUTES.node("GET", BUSINESS_NODE, "owned_pixels")
def owned_pixels(call):
    call.require_scope("business_management")
    items = [d for d in call.store.datasets.values() if d.business_id == call.node.id]
    return _list(call, items, _render_dataset(call))


# --- an ad account, a dataset -------------------------------------------------


@ROUTES.node("GET", AD_ACCOUNT_NODE)
def ad_account_node(call):
    call.require_scope(*_ADS_SCOPES)
    return _render_ad_account(call)(call.node)


@ROUTES.node("GET", AD_ACCOUNT_NODE, "adspixels")
def ad_account_pixels(call):
    call.require_scope(*_ADS_SCOPES)
    items = [
        d for d in call.store.datasets.values() if call.node.id in d.ad_account_ids
    ]
    return _list(call, items, _render_dataset(call))


@ROUTES.node("GET", DATASET_NODE)
def dataset_node(call):
    call.require_scope(*_ADS_SCOPES)
    return _render_dataset(call)(call.node)
