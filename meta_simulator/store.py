"""The simulator's state: pages, tokens, forms, leads, subscriptions.

One re-entrant lock guards everything; HTTP handler threads, the control
API and test code all go through it.  Lookups that encode Meta rules
(token validity, who may see which object, lead retention) live here so
every route applies them the same way.
"""

import bisect
import threading
import time
from collections import defaultdict

from . import errors
from .models import (
    APP,
    PAGE,
    AdAccount,
    AuthorizationCode,
    Business,
    CustomAudience,
    Dataset,
    DialogRequest,
    Form,
    IgAccount,
    Lead,
    LoginConfiguration,
    Page,
    Token,
    User,
)

PAGE_NODE = "page"
IG_NODE = "ig_user"
USER_NODE = "user"
FORM_NODE = "form"
LEAD_NODE = "lead"
APP_NODE = "application"
BUSINESS_NODE = "business"
AD_ACCOUNT_NODE = "ad_account"
DATASET_NODE = "ads_pixel"
AUDIENCE_NODE = "custom_audience"
POST_NODE = "post"
MEDIA_NODE = "ig_media"
COMMENT_NODE = "comment"
IG_COMMENT_NODE = "ig_comment"
IG_PERSON_NODE = "ig_scoped_user"
PAGE_PERSON_NODE = "page_scoped_user"
CONVERSATION_NODE = "conversation"
MESSAGE_NODE = "message"
#: Posts, media, comments, the people who wrote them (by their
#: Instagram-scoped id), the people who wrote to a Page (by their Page-scoped
#: id), conversations and their messages belong to a Page
#: (or its Instagram account): its Page token reaches them.
SOCIAL_NODES = (
    POST_NODE,
    MEDIA_NODE,
    COMMENT_NODE,
    IG_COMMENT_NODE,
    IG_PERSON_NODE,
    PAGE_PERSON_NODE,
    CONVERSATION_NODE,
    MESSAGE_NODE,
)

#: Node type names as Meta spells them in error messages.
NODE_LABELS = {
    PAGE_NODE: "Page",
    IG_NODE: "IGUser",
    USER_NODE: "User",
    FORM_NODE: "LeadgenForm",
    LEAD_NODE: "Lead",
    APP_NODE: "Application",
    BUSINESS_NODE: "Business",
    AD_ACCOUNT_NODE: "AdAccount",
    DATASET_NODE: "AdsPixel",
    AUDIENCE_NODE: "CustomAudience",
    POST_NODE: "Post",
    MEDIA_NODE: "IGMedia",
    COMMENT_NODE: "Comment",
    IG_COMMENT_NODE: "IGComment",
    IG_PERSON_NODE: "User",
    PAGE_PERSON_NODE: "User",
    CONVERSATION_NODE: "Conversation",
    MESSAGE_NODE: "Message",
}

#: Leads are retrievable for 90 days, then disappear (docs/meta-facts.md §5.4 [R]).
LEAD_RETENTION_SECONDS = 90 * 86400


class LeadIndex:
    """A form's leads kept sorted newest first for cheap cursor paging."""

    def __init__(self):
        self.keys: list[tuple] = []
        self.leads: list[Lead] = []

    def add(self, lead: Lead) -> None:
        position = bisect.bisect_left(self.keys, lead.sort_key)
        self.keys.insert(position, lead.sort_key)
        self.leads.insert(position, lead)

    def extend(self, leads: list[Lead]) -> None:
        merged = sorted(self.leads + leads, key=lambda lead: lead.sort_key)
        self.leads = merged
        self.keys = [lead.sort_key for lead in merged]

    def remove(self, lead: Lead) -> None:
        position = bisect.bisect_left(self.keys, lead.sort_key)
        if position < len(self.keys) and self.leads[position] is lead:
            del self.keys[position]
            del self.leads[position]


class Store:
    """All simulated Meta objects."""

    def __init__(self, app_id: str, app_secret: str, app_name: str):
        self.app_id = app_id
        self.app_secret = app_secret
        self.app_name = app_name
        self.lock = threading.RLock()
        self.pages: dict[str, Page] = {}
        self.ig_accounts: dict[str, IgAccount] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.forms: dict[str, Form] = {}
        self.leads: dict[str, Lead] = {}
        self.businesses: dict[str, Business] = {}
        #: by node id, ``act_<digits>``
        self.ad_accounts: dict[str, AdAccount] = {}
        self.datasets: dict[str, Dataset] = {}
        #: Custom Audiences and lookalikes by id (docs/meta-facts.md §7)
        self.audiences: dict[str, CustomAudience] = {}
        #: page id -> the business owning it
        self.page_business: dict[str, str] = {}
        self.objects: dict[str, tuple[str, object]] = {
            app_id: (APP_NODE, {"id": app_id, "name": app_name})
        }
        self.form_leads: dict[str, LeadIndex] = defaultdict(LeadIndex)
        self.page_forms: dict[str, list[str]] = defaultdict(list)
        #: page id -> subscribed webhook fields of our app (subscribed_apps).
        self.subscriptions: dict[str, list[str]] = {}
        #: object id -> (code, subcode) answered as a permission error.
        self.denied: dict[str, tuple[int, int | None]] = {}
        #: (user-or-system token, page id) -> page token derived from it.
        self.page_tokens: dict[tuple[str, str], str] = {}
        # Facebook Login (docs/meta-facts.md §2.4) --------------------------
        #: App Dashboard → Facebook Login → Settings → Valid OAuth Redirect URIs.
        self.oauth_redirect_uris: list[str] = []
        #: Facebook Login for Business configurations by ``config_id``.
        self.login_configs: dict[str, LoginConfiguration] = {}
        #: Login dialogs shown and not yet answered, by one-time key.
        self.dialogs: dict[str, DialogRequest] = {}
        #: Authorization codes handed out by the dialog.
        self.auth_codes: dict[str, AuthorizationCode] = {}
        #: The person logged in on the simulated www.facebook.com (one browser).
        self.session_person: str | None = None

    @property
    def app_token(self) -> str:
        return f"{self.app_id}|{self.app_secret}"

    def register(self, node_type: str, obj) -> None:
        self.objects[obj.id] = (node_type, obj)

    def lookup(self, object_id: str):
        """``(node_type, obj)`` or ``None``."""
        return self.objects.get(str(object_id))

    # --- tokens --------------------------------------------------------------

    def check_token(self, value: str, now: float) -> Token:
        """The token record, or error 190 with Meta's subcode (§2.1, §9.1)."""
        if value == self.app_token:
            return Token(value=value, type=APP, scopes=[])
        token = self.tokens.get(value)
        if token is None:
            if "|" in value:
                # An app token with a wrong secret.
                raise errors.GraphError(190, "Invalid OAuth access token signature.")
            raise errors.token_unparseable()
        dead = self.dead_reason(token, now)
        if dead is not None:
            raise dead
        return token

    def dead_reason(self, token: Token, now: float) -> errors.GraphError | None:
        """Why a known token no longer works, walking to its parent token."""
        seen = token
        while seen is not None:
            if seen.invalid_subcode is not None:
                return errors.token_invalid(seen.invalid_subcode, app_id=self.app_id)
            seen = self.tokens.get(seen.parent) if seen.parent else None
        if token.expires_at and now >= token.expires_at:
            return errors.token_invalid(
                463, expired=_http_date(token.expires_at), now=_http_date(now)
            )
        return None

    def scopes_of(self, token: Token) -> list[str]:
        """Granted scopes; page tokens inherit their user token's (§2.1)."""
        if token.scopes is None and token.parent in self.tokens:
            return self.scopes_of(self.tokens[token.parent])
        return list(token.scopes or [])

    def page_token_for(self, token: Token, page_id: str) -> str | None:
        """The page token this user/page token may see for ``page_id``."""
        if token.type == PAGE:
            return token.value if token.page_id == page_id else None
        return self.page_tokens.get((token.value, page_id))

    # --- visibility ----------------------------------------------------------

    def page_of(self, node_type: str, obj) -> str | None:
        if node_type == PAGE_NODE:
            return obj.id
        if node_type in (IG_NODE, FORM_NODE, LEAD_NODE, *SOCIAL_NODES):
            return obj.page_id
        return None

    def ad_account_of(self, node_type: str, obj) -> str | None:
        """The ad account (``act_…``) an ad account or audience belongs to."""
        if node_type == AD_ACCOUNT_NODE:
            return obj.id
        if node_type == AUDIENCE_NODE:
            return obj.ad_account_id
        return None

    def can_access(self, token: Token, node_type: str, obj) -> bool:
        """Who may read what; a "no" is answered as "does not exist" (100/33)."""
        if node_type == APP_NODE:
            return True
        if node_type == USER_NODE:
            return token.user_id == obj.id
        if node_type == AUDIENCE_NODE:
            # An audience is reached through its ad account.
            account = self.ad_accounts.get(obj.ad_account_id)
            return account is not None and self.can_access_business_asset(
                token, AD_ACCOUNT_NODE, account
            )
        if node_type in (BUSINESS_NODE, AD_ACCOUNT_NODE, DATASET_NODE):
            return self.can_access_business_asset(token, node_type, obj)
        page_id = self.page_of(node_type, obj)
        if token.type == APP:
            # An app token reads public Page/IG data, never leads or forms.
            return node_type in (PAGE_NODE, IG_NODE)
        if token.type == PAGE:
            return token.page_id == page_id
        return page_id in token.pages

    def can_access_business_asset(self, token: Token, node_type: str, obj) -> bool:
        """Businesses: their system users; ad accounts: granted, or owned by
        (or a client of) the token's business; datasets: of the token's
        business or of an ad account the token reaches."""
        if token.type not in ("USER", "SYSTEM_USER"):
            return False
        if node_type == BUSINESS_NODE:
            return token.business_id == obj.id
        if node_type == AD_ACCOUNT_NODE:
            return obj.id in token.ad_accounts or (
                token.business_id is not None
                and token.business_id in (obj.business_id, *obj.client_business_ids)
            )
        reachable = [
            self.ad_accounts[a] for a in obj.ad_account_ids if a in self.ad_accounts
        ]
        return (
            token.business_id is not None and token.business_id == obj.business_id
        ) or any(
            self.can_access_business_asset(token, AD_ACCOUNT_NODE, a) for a in reachable
        )

    def denied_for(self, node_type: str, obj):
        """A ``deny_object`` rule on the object or an ancestor (lead→form→page)."""
        chain = [getattr(obj, "id", None)]
        if node_type == LEAD_NODE:
            chain.append(obj.form_id)
        if node_type == AUDIENCE_NODE:
            chain.append(obj.ad_account_id)
        page_id = self.page_of(node_type, obj)
        if page_id:
            chain.append(page_id)
        for object_id in chain:
            if object_id in self.denied:
                return self.denied[object_id]
        return None

    @staticmethod
    def lead_visible(lead: Lead, now: float) -> bool:
        return lead.created_time > now - LEAD_RETENTION_SECONDS


def _http_date(timestamp: float) -> str:
    return time.strftime("%A, %d-%b-%y %H:%M:%S UTC", time.gmtime(timestamp))
