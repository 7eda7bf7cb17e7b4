"""Pages, their Instagram accounts, ``/me/accounts`` and ``subscribed_apps``.

docs/meta-facts.md §2.1 (page tokens via /me/accounts), §3 (permissions, tasks),
§4.1 (subscribed_apps).
"""

from .. import errors
from ..comments import mention_fields
from ..fields import Ref
from ..graph import ROUTES
from ..paging import paginate
from ..store import IG_NODE, PAGE_NODE, USER_NODE

#: Page webhook fields Meta accepts in ``subscribed_fields`` (Webhooks for
#: Pages reference).  Spellings are Meta's (``messaging_referrals``, plural).
PAGE_WEBHOOK_FIELDS = frozenset(
    {
        "affiliation", "attire", "awards", "bio", "birthday", "category",
        "checkins", "company_overview", "conversations", "culinary_team",
        "current_location", "description", "email", "feed", "founded",
        "general_info", "general_manager", "hometown", "hours", "inbox_labels",
        "leadgen", "leadgen_fat", "live_videos", "location", "members",
        "mention", "merchant_review", "message_context", "message_deliveries",
        "message_echoes", "message_edits", "message_mention",
        "message_reactions", "message_reads", "messages",
        "messaging_account_linking", "messaging_appointments",
        "messaging_checkout_updates", "messaging_customer_information",
        "messaging_direct_sends", "messaging_feedback", "messaging_game_plays",
        "messaging_handovers", "messaging_in_thread_lead_form_submit",
        "messaging_optins", "messaging_optouts", "messaging_payments",
        "messaging_policy_enforcement", "messaging_postbacks",
        "messaging_pre_checkouts", "messaging_referrals", "mission", "name",
        "page_about_story", "page_change_proposal", "page_upcoming_change",
        "parking", "payment_options", "personal_info", "personal_interests",
        "phone", "picture", "price_range", "product_review", "products",
        "public_transit", "ratings", "registration", "send_cart", "standby",
        "user_action", "videos", "website",
    }
)  # fmt: skip

#: Extra permission a field needs besides pages_manage_metadata; Meta answers
#: "(#200) To subscribe to the X field, one of these permissions is needed".
_FIELD_PERMISSION = {"leadgen": "leads_retrieval", "leadgen_fat": "leads_retrieval"}
_MESSAGING_PERMISSION = "pages_messaging"

PAGE_DEFAULT_FIELDS = ("name", "id")
ACCOUNTS_DEFAULT_FIELDS = (
    "access_token",
    "category",
    "category_list",
    "name",
    "id",
    "tasks",
)


def ig_full(ig) -> dict:
    return {
        "id": ig.id,
        "username": ig.username,
        "name": ig.name,
        "followers_count": ig.followers_count,
        "media_count": ig.media_count,
        "profile_picture_url": f"https://scontent.example/ig/{ig.id}.jpg",
        "ig_id": int(ig.id[-10:]),
    }


def page_full(call, page) -> dict:
    """Every field a Page node offers here; ``call.render`` picks."""
    store = call.store
    ig = store.ig_accounts.get(page.ig_account_id) if page.ig_account_id else None
    ig_ref = Ref(IG_NODE, ig_full(ig)) if ig else None
    return {
        "id": page.id,
        "name": page.name,
        "category": page.category,
        "category_list": [{"id": "2200", "name": page.category}],
        "username": page.username,
        "link": f"https://www.facebook.com/{page.id}",
        "fan_count": page.fan_count,
        "followers_count": page.fan_count,
        "is_published": True,
        "verification_status": "not_verified",
        # §2.1: only someone managing the Page sees its token.
        "access_token": store.page_token_for(call.token, page.id)
        if call.token
        else None,
        "instagram_business_account": ig_ref,
        "connected_instagram_account": ig_ref,
    }


@ROUTES.node("GET", PAGE_NODE)
def page_node(call):
    return call.render(page_full(call, call.node), PAGE_DEFAULT_FIELDS, PAGE_NODE)


@ROUTES.node("GET", IG_NODE)
def ig_node(call):
    # what other accounts wrote about it (§4.5)
    full = {**ig_full(call.node), **mention_fields(call, call.node)}
    return call.render(full, ("id",), IG_NODE)


@ROUTES.node("GET", USER_NODE, "accounts")
def me_accounts(call):
    """Pages the user manages, with page tokens and tasks (§2.1, §3).

    Without ``pages_show_list`` Meta answers an empty list, not an error.
    """
    token, store = call.token, call.store
    page_ids = [p for p in token.pages if p in store.pages]
    if "pages_show_list" not in call.scopes:
        page_ids = []
    keys = [(index,) for index in range(len(page_ids))]

    def render(page_id):
        full = page_full(call, store.pages[page_id])
        full["tasks"] = list(token.tasks)
        return call.render(full, ACCOUNTS_DEFAULT_FIELDS, PAGE_NODE)

    return paginate(call, keys, page_ids, render)


# --- subscribed_apps (§4.1) --------------------------------------------------


def _subscribed_field_list(call) -> list[str]:
    raw = call.param("subscribed_fields")
    if raw in (None, "", []):
        raise errors.invalid_param("The parameter subscribed_fields is required")
    if isinstance(raw, str) and raw.strip().startswith("["):
        raw = call.json_param("subscribed_fields")
    names = raw if isinstance(raw, list) else str(raw).split(",")
    names = [str(name).strip() for name in names if str(name).strip()]
    for index, name in enumerate(names):
        if name not in PAGE_WEBHOOK_FIELDS:
            allowed = ", ".join(sorted(PAGE_WEBHOOK_FIELDS))
            raise errors.invalid_param(
                f"Param subscribed_fields[{index}] must be one of {{{allowed}}} "
                f'- got "{name}"'
            )
    return list(dict.fromkeys(names))


def _required_permission(name: str) -> str | None:
    if name in _FIELD_PERMISSION:
        return _FIELD_PERMISSION[name]
    if name.startswith(("message", "messaging_")) or name == "standby":
        return _MESSAGING_PERMISSION
    return None


@ROUTES.node("GET", PAGE_NODE, "subscribed_apps")
def subscribed_apps_get(call):
    call.require_page_token()
    fields = call.store.subscriptions.get(call.node.id)
    if fields is None:
        return {"data": []}
    sim = call.sim
    row = {
        "category": "Business",
        "link": f"https://www.facebook.com/games/?app_id={sim.app_id}",
        "name": sim.app_name,
        "id": sim.app_id,
        "subscribed_fields": list(fields),
    }
    return {"data": [row]}


@ROUTES.node("POST", PAGE_NODE, "subscribed_apps")
def subscribed_apps_post(call):
    """Subscribe our app; the field list replaces the previous one."""
    call.require_page_token()
    call.require_scope("pages_manage_metadata")
    names = _subscribed_field_list(call)
    scopes = call.scopes
    for name in names:
        needed = _required_permission(name)
        if needed and needed not in scopes:
            raise errors.permission(
                200,
                f"To subscribe to the {name} field, one of these permissions is "
                f"needed: {needed}",
            )
    call.store.subscriptions[call.node.id] = names
    return {"success": True}


@ROUTES.node("DELETE", PAGE_NODE, "subscribed_apps")
def subscribed_apps_delete(call):
    call.require_page_token()
    call.require_scope("pages_manage_metadata")
    call.store.subscriptions.pop(call.node.id, None)
    return {"success": True}
