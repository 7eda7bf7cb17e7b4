"""Meta protocol constants: the one place that knows versions, hosts and codes.

Facts and their confidence tags come from ``docs/meta-facts.md``; the section
is cited next to each constant so a reviewer can re-check it at each Graph
release.
"""

#: Graph host (§1.1). The addon lets an administrator point it at the local
#: simulator ("sandbox"), so it is only a default.
DEFAULT_BASE_URL = "https://graph.facebook.com"

#: Pinned Graph API version (§1.2): v26.0 shipped 2026-07-29, expiry not yet
#: announced. Every call carries it; never rely on unversioned calls. The
#: calendar of versions is ``graph.versions``.
DEFAULT_API_VERSION = "v26.0"


#: Where a lead, a post, a comment or a person comes from: a Facebook Page
#: or an Instagram account. The one selection of every such ``platform``
#: field (Odoo's ``fields.Selection`` wants a list: ``list(PLATFORMS)``).
PLATFORMS = (("facebook", "Facebook"), ("instagram", "Instagram"))

#: A conversation's platform: the same Page stored as "messenger" (the name
#: of its messaging product, as the core's ``MessagingEvent.channel`` and the
#: inbox's filters spell it), not "facebook". Kept as stored: making it
#: "facebook" would mean migrating every conversation.
CONVERSATION_PLATFORMS = (("messenger", "Messenger"), ("instagram", "Instagram"))

#: Timeouts in seconds (connect, read). Meta answers in well under a second
#: normally; the read timeout bounds a hung call inside a cron batch.
DEFAULT_TIMEOUT = (5.0, 30.0)

#: Batch requests carry at most 50 items (§9.3).
MAX_BATCH_SIZE = 50

#: A webhook POST batches up to 1000 updates (§4.4); a body cap well above the
#: largest legitimate delivery .
MAX_WEBHOOK_BODY_BYTES = 10 * 1024 * 1024

#: The permission a Page webhook field needs besides ``pages_manage_metadata``
#: (§3, §4.1): Meta refuses the whole subscription call when one is missing,
#: so a connection subscribes only the fields its token allows.
PAGE_FIELD_SCOPES = {
    "leadgen": "leads_retrieval",
    "messages": "pages_messaging",
    "messaging_postbacks": "pages_messaging",
    "message_echoes": "pages_messaging",
    "message_reads": "pages_messaging",
    "message_deliveries": "pages_messaging",
    "message_reactions": "pages_messaging",
    "messaging_referrals": "pages_messaging",
}

#: Fields read on a lead (§5.1, field list of the official SDK).
LEAD_FIELDS = (
    "id",
    "created_time",
    "field_data",
    "form_id",
    "ad_id",
    "ad_name",
    "adset_id",
    "adset_name",
    "campaign_id",
    "campaign_name",
    "platform",
    "is_organic",
    "custom_disclaimer_responses",
)

#: Fields read on a lead form (§5.2).
FORM_FIELDS = ("id", "name", "status", "locale", "created_time", "questions")

#: Permissions each product feature needs (§3); the health centre compares
#: them with the scopes ``debug_token`` reports.
FEATURE_SCOPES = {
    "pages": ("pages_show_list", "pages_manage_metadata"),
    "lead_ads": (
        "leads_retrieval",
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_ads",
        "pages_manage_metadata",
    ),
    "page_comments": (
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
    ),
    "messenger": ("pages_messaging", "pages_manage_metadata", "pages_read_engagement"),
    "instagram": (
        "instagram_basic",
        "instagram_manage_comments",
        "instagram_manage_messages",
    ),
    "audiences": ("ads_management",),
}

#: The features a connection can be used for, Pages' ones first.
FEATURES = ("lead_ads", "page_comments", "messenger", "instagram", "audiences")
PAGE_FEATURES = ("lead_ads", "page_comments", "messenger", "instagram")
#: The permissions that show a token was granted for a feature (none of
#: them serves another feature): a connection made without saying its
#: features is taken to be used for those its token was granted.
FEATURE_KEY_SCOPES = {
    "lead_ads": ("leads_retrieval",),
    "page_comments": ("pages_read_user_content", "pages_manage_engagement"),
    "messenger": ("pages_messaging",),
    "instagram": (
        "instagram_basic",
        "instagram_manage_comments",
        "instagram_manage_messages",
    ),
    "audiences": ("ads_management",),
}

# Error codes (§9.1). Classification lives in errors.py/client.py; the sets
# are here so the simulator-facing tests and the docs cite one list.
TOKEN_ERROR_CODES = frozenset({190, 102})
#: A message Meta refuses to deliver in this conversation (outside the
#: allowed window: Messenger, Instagram; another app controls the thread
#: under Conversation Routing): code 10 though no permission is missing, so
#: the message fails and nothing waits for a reconnection (§6.1, §6.2).
MESSAGE_REFUSED_SUBCODES = frozenset({(10, 2018278), (10, 2534022), (10, 2018300)})
#: Errors about one object that Meta answers with a permission code or a
#: code of its own: 230 "user consent is required to access user profile"
#: (the User Profile APIs, for a person who never messaged the account) and
#: 551 "this person isn't available right now" (Send API) (§6.2).
OBJECT_ERROR_CODES = frozenset({230, 551})
#: Code 3 "API Method": the app lacks a capability or permission Meta grants
#: apps, not the token (§9.1).
APP_ERROR_CODES = frozenset({3})
PERMISSION_ERROR_CODES = frozenset({10, *range(200, 300)})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80000, 80100)})
TRANSIENT_CODES = frozenset({1, 2})
#: "Unsupported get request. Object with ID … does not exist" (100/33) and
#: "Some of the aliases you requested do not exist" (803)
#: (https://developers.facebook.com/docs/graph-api/guides/error-handling).
NOT_FOUND_CODES = frozenset({803})
NOT_FOUND_SUBCODES = frozenset({(100, 33)})
