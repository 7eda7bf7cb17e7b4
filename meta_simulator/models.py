"""Records the simulator keeps (plain dataclasses, no behaviour).

Ids are strings of digits like Meta's; times are Unix seconds (ints) and are
only formatted (ISO ``+0000``) when rendered.
"""

from dataclasses import dataclass, field

# Token kinds of docs/meta-facts.md §2.1 (as reported by debug_token "type").
USER = "USER"
PAGE = "PAGE"
SYSTEM_USER = "SYSTEM_USER"
APP = "APP"

#: Every permission named in docs/meta-facts.md §3; the demo system user gets all.
ALL_SCOPES = (
    "pages_show_list",
    "business_management",
    "pages_manage_metadata",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_manage_ads",
    "pages_messaging",
    "leads_retrieval",
    "ads_management",
    "ads_read",
    "instagram_basic",
    "instagram_manage_comments",
    "instagram_manage_messages",
)

#: Page tasks of a full admin as /me/accounts reports them (§3, ``MESSAGING``).
ADMIN_TASKS = (
    "ADVERTISE",
    "ANALYZE",
    "CREATE_CONTENT",
    "MESSAGING",
    "MODERATE",
    "MANAGE",
    "MANAGE_LEADS",
)


@dataclass
class User:
    """A person (or system user) on Facebook.

    ``pages`` are the Pages the person manages: what the Login dialog offers
    to grant (docs/meta-facts.md §2.4); tokens list their own granted Pages.
    """

    id: str
    name: str
    pages: list[str] = field(default_factory=list)
    tasks: tuple = ADMIN_TASKS
    #: Made by ``add_person``: offered by the simulated facebook.com login form.
    person: bool = False


@dataclass
class Page:
    id: str
    name: str
    access_token: str
    category: str = "Shopping & Retail"
    ig_account_id: str | None = None
    username: str | None = None
    created_time: int = 0
    fan_count: int = 0


@dataclass
class IgAccount:
    id: str
    username: str
    name: str
    page_id: str
    followers_count: int = 0
    media_count: int = 0


@dataclass
class Business:
    """A business portfolio (Business Manager)."""

    id: str
    name: str
    created_time: int = 0


@dataclass
class AdAccount:
    """An ad account: its node id is ``act_<account_id>``."""

    account_id: str
    name: str
    currency: str = "TRY"
    account_status: int = 1
    timezone_name: str = "Europe/Istanbul"
    business_id: str | None = None
    #: businesses with client (partner) access to it
    client_business_ids: list[str] = field(default_factory=list)
    #: the Custom Audience terms were accepted for this account (§7.1)
    custom_audience_tos: bool = True
    #: EXTERN_ID -> identifiers uploaded with it in any audience of the
    #: account: EXTERN_ID is scoped to the ad account (§7.3)
    extern_ids: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"act_{self.account_id}"


@dataclass
class Dataset:
    """A dataset (Meta pixel) for the Conversions API."""

    id: str
    name: str
    business_id: str | None = None
    ad_account_ids: list[str] = field(default_factory=list)
    creation_time: int = 0
    last_fired_time: int = 0
    #: Conversions API events kept, as sent, in arrival order (deduplicated)
    events: list = field(default_factory=list)
    #: those sent with a ``test_event_code`` (Events Manager's Test Events)
    test_events: list = field(default_factory=list)
    #: (event_name, event_id) -> when it was first received, for the 48 h
    #: deduplication
    seen: dict = field(default_factory=dict)


@dataclass
class AudienceSession:
    """One upload session of a Custom Audience (``session`` of ``/users``,
    ``/usersreplace``; docs/meta-facts.md §7.3, §7.4)."""

    id: int
    #: ``add``, ``remove`` or ``replace``
    kind: str
    started_at: float
    schema: object = None
    last_batch_seq: int = 0
    num_received: int = 0
    num_invalid_entries: int = 0
    #: None while open; ``last_batch`` or ``timeout`` once closed
    ended_by: str | None = None
    ended_at: float | None = None
    #: the people the replace installs when the session closes
    #: (an :class:`~meta_simulator.audiences.MemberSet`)
    staged: object = None


@dataclass
class CustomAudience:
    """A customer-file Custom Audience or a lookalike (§7).

    ``members`` are the people in it, each a dict of matching keys
    (``EMAIL``, ``PHONE``, ``EXTERN_ID`` …) to the values uploaded.
    """

    id: str
    ad_account_id: str
    name: str
    subtype: str = "CUSTOM"
    description: str | None = None
    customer_file_source: str | None = None
    time_created: int = 0
    time_updated: int = 0
    #: fixed by the first upload: ``MULTI_HASHES`` or ``HASHES_OR_USER_IDS``
    schema_type: str | None = None
    #: an :class:`~meta_simulator.audiences.MemberSet`
    members: object = None
    #: 200 normal; 471 flagged (restricted, refuses membership edits)
    flag_code: int = 200
    sessions: dict = field(default_factory=dict)
    #: the session id of the replace running, if any
    replace_session: int | None = None
    origin_audience_id: str | None = None
    lookalike_spec: dict | None = None


@dataclass
class Token:
    value: str
    type: str
    user_id: str | None = None
    #: None on page tokens derived from a user token: they inherit its scopes.
    scopes: list[str] | None = None
    pages: list[str] = field(default_factory=list)
    page_id: str | None = None
    #: The user/system-user token a page token was derived from (§2.1: page
    #: tokens die with it, e.g. on a password change, 190/460).
    parent: str | None = None
    issued_at: int = 0
    expires_at: int = 0
    data_access_expires_at: int = 0
    invalid_subcode: int | None = None
    tasks: tuple = ADMIN_TASKS
    #: ad accounts (``act_…``) granted to a user or system-user token
    ad_accounts: list[str] = field(default_factory=list)
    #: the business a system user belongs to
    business_id: str | None = None


@dataclass
class LoginConfiguration:
    """A Facebook Login for Business configuration (``config_id``, §2.4)."""

    id: str
    name: str
    scopes: list[str]
    token_type: str = USER


@dataclass
class DialogRequest:
    """A Login dialog shown to a person, waiting for Continue or Cancel.

    The form posts back only its one-time ``key``; everything the dialog
    validated lives here.
    """

    key: str
    person_id: str
    redirect_uri: str
    state: str | None
    scopes: list[str]
    page_ids: list[str]
    config_id: str | None = None
    #: ``response_type`` included ``granted_scopes``.
    granted_scopes: bool = False


@dataclass
class AuthorizationCode:
    """A ``code`` the dialog redirected with: single use, 10 minutes (§2.4)."""

    value: str
    app_id: str
    person_id: str
    redirect_uri: str
    scopes: list[str]
    pages: list[str]
    issued_at: int
    expires_at: int
    used: bool = False


@dataclass
class Form:
    id: str
    page_id: str
    name: str
    questions: list[dict]
    locale: str = "tr_TR"
    status: str = "ACTIVE"
    created_time: int = 0
    privacy_policy_url: str = "https://example.com/gizlilik"
    test_lead_id: str | None = None


@dataclass
class Lead:
    id: str
    form_id: str
    page_id: str
    created_time: int
    field_data: list[dict]
    ad_id: str | None = None
    ad_name: str | None = None
    adset_id: str | None = None
    adset_name: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    platform: str = "fb"
    is_organic: bool = False
    custom_disclaimer_responses: list[dict] | None = None
    partner_name: str | None = None
    retailer_item_id: str | None = None
    is_test: bool = False

    @property
    def sort_key(self) -> tuple:
        """Newest first, ties broken by id, as the /leads edge lists them."""
        return (-self.created_time, -int(self.id))
