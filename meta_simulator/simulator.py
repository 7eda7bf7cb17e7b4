"""The :class:`MetaSimulator` facade: state helpers, faults, server lifecycle.

``§`` numbers refer to ``docs/meta-facts.md``.
"""

import copy
import datetime as dt
import itertools
import mimetypes
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import (  # noqa: F401  (routes register)
    audiences,
    callbacks,
    comments,
    control,
    inbox,
    login_dialog,
    payloads,
    routes,
)
from .clock import Clock
from .fakedata import LeadFaker, ascii_slug, default_questions
from .faults import Faults
from .graph import (
    CURRENT_VERSION,
    GRAPH_API,
    GraphApp,
    RecordedRequest,
    VersionCalendar,
    graph_json,
)
from .ids import IdFactory
from .models import (
    ADMIN_TASKS,
    ALL_SCOPES,
    PAGE,
    SYSTEM_USER,
    USER,
    AdAccount,
    Business,
    CustomAudience,
    Dataset,
    Form,
    IgAccount,
    Lead,
    LoginConfiguration,
    Page,
    Token,
    User,
)
from .routes.leads import iso_time, lead_full
from .server import SimHTTPServer, parse_body
from .store import (
    AD_ACCOUNT_NODE,
    AUDIENCE_NODE,
    BUSINESS_NODE,
    DATASET_NODE,
    FORM_NODE,
    IG_NODE,
    IG_PERSON_NODE,
    LEAD_NODE,
    PAGE_NODE,
    USER_NODE,
    Store,
)
from .usage import UsageMeter
from .webhooks import DEFAULT_TIME_SCALE, WebhookSender

#: Data-access window of user-based tokens (§2.2 [R]).
DATA_ACCESS_SECONDS = 90 * 86400


@dataclass
class CallbackConfig:
    """The app-level webhook subscription (App Dashboard → Webhooks, §4.1)."""

    url: str
    verify_token: str | None = None
    fields: tuple | None = None
    object: str = "page"
    disabled: bool = False


class MetaSimulator:
    """A local, deterministic Meta Graph API + webhook sender.

    See the package docstring for the whole API.  State changes are
    thread-safe; ids and tokens derive from ``seed``.

    Facebook Login (§2.4): ``add_person`` makes a person managing Pages,
    ``login_as``/``logout`` set who is logged in on the simulated
    www.facebook.com, ``set_oauth_redirect_uris`` lists the app's Valid OAuth
    Redirect URIs, ``add_login_configuration`` returns a Facebook Login for
    Business ``config_id`` and ``dialog_url`` builds the dialog URL (served on
    this same port, ``www_url``).  The dialog's ``code`` is exchanged at
    ``oauth/access_token`` for a user token of ``login_token_seconds`` with
    the granted scopes and only the ticked Pages.
    """

    def __init__(
        self,
        seed=0,
        app_id: str = "111111",
        app_secret: str = "sim_app_secret",
        require_appsecret_proof: bool = True,
        clock=None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        app_name: str = "Odoo Meta Connector",
    ):
        self.seed = seed
        self.app_id = str(app_id)
        self.app_secret = app_secret
        self.app_name = app_name
        self.require_appsecret_proof = require_appsecret_proof
        self.clock = clock if clock is not None else Clock()
        self.host, self.port = host, port
        self.ids = IdFactory(seed)
        self.ids.reserve(self.app_id)
        self.store = Store(self.app_id, app_secret, app_name)
        self.faults = Faults(self.ids, self.clock)
        self.usage = UsageMeter(self.clock)
        #: Graph and Marketing API versions on ``clock`` (§1.2).
        self.version_calendar = VersionCalendar(self.clock)
        self.graph = GraphApp(self)
        self.webhooks = WebhookSender(
            app_secret, rng=self.ids.rng("webhooks"), on_disable=self._on_disabled
        )
        #: ``expires_in`` of the user token a Login dialog code buys (§2.4).
        self.login_token_seconds = login_dialog.LOGIN_TOKEN_SECONDS
        #: When True no webhook is sent at all (deliveries Meta never made).
        self.drop_webhooks = False
        #: When True a used-up hourly budget (``app_call_budget``,
        #: ``buc_call_budget``) answers Meta's throttle codes (§9.2).
        self.enforce_usage_limits = False
        self.callback: CallbackConfig | None = None
        #: Page posts / Instagram media and their comments, by id (§6.3).
        self.social_posts: dict = {}
        self.social_comments: dict = {}
        #: Instagram account id -> ids of the comments and media mentioning it
        self.social_mentions: dict = {}
        #: (Page id, PSID or IGSID) -> conversation (§6)
        self.dm_conversations: dict = {}
        #: The app has the reviewed Human Agent feature (HUMAN_AGENT tag).
        self.human_agent_enabled = False
        #: Reusable Send API attachments by ``attachment_id`` (§6.1)
        self.dm_reusable: dict = {}
        #: Files the simulator's CDN serves, by token (``add_cdn_file``)
        self.cdn_files: dict = {}
        #: Conversations API calls per second per Page / Instagram account
        self.dm_reads = inbox.RateWindow()
        self._dm_sequence = itertools.count(1)
        #: What ``--fixture demo`` created (also served at GET /_sim/fixture).
        self.fixture: dict | None = None
        self._faker = LeadFaker(self.ids.rng("leads:data"))
        self._lead_rng = self.ids.rng("leads:meta")
        self._ads: dict[str, list[dict]] = {}
        self._requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        #: Deauthorize / Data Deletion callbacks sent (callbacks.CallbackResult)
        self.app_callbacks: list = []
        self._server: SimHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> "MetaSimulator":
        """Serve on ``host:port`` (0 = a free port) from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping = threading.Event()
        self._server = SimHTTPServer((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"meta-simulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (hanging answers are cut short)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self) -> str:
        """The Graph root, e.g. ``http://127.0.0.1:PORT`` (add ``/v26.0/…``)."""
        return f"http://{self.host}:{self.port}"

    # --- usage budgets (§9.2) ------------------------------------------------

    @property
    def app_call_budget(self) -> int:
        """Calls per hour that make ``X-App-Usage`` read 100 %."""
        return self.usage.app_budget

    @app_call_budget.setter
    def app_call_budget(self, value: int) -> None:
        self.usage.app_budget = int(value)

    @property
    def buc_call_budget(self) -> int:
        """Calls per hour per Page and bucket for ``X-Business-Use-Case-Usage``."""
        return self.usage.buc_budget

    @buc_call_budget.setter
    def buc_call_budget(self, value: int) -> None:
        self.usage.buc_budget = int(value)

    # --- API versions (§1.2) --------------------------------------------------

    @property
    def versions(self) -> list[dict]:
        """The version calendar, oldest first: ``version``, ``released``,
        ``graph_expires``, ``marketing_expires`` (ISO dates, ``None`` when not
        announced), ``graph_live``/``marketing_live`` (on :attr:`clock`),
        ``deprecation`` and ``dropped_fields`` (``Label.field``)."""
        return self.version_calendar.as_dicts()

    def release_version(
        self, version: str, released=None, *, graph_expires=None, marketing_expires=None
    ) -> dict:
        """Ship ``version`` (``v28.0``): served from ``released`` (a Unix
        time, a date, a datetime or ISO text; default now) on, before that an
        unknown path (2500). Meta announces the predecessors' expiries
        separately: :meth:`expire_version`."""
        self.version_calendar.release(
            version,
            released,
            graph_expires=graph_expires,
            marketing_expires=marketing_expires,
        )
        return self._version_info(version)

    def expire_version(self, version: str, api: str = GRAPH_API, at=None) -> dict:
        """``api`` (``"graph"`` or ``"marketing"``) retires ``version`` at
        ``at`` (default now). Graph then serves it with the next live
        version; Marketing API routes auto-upgrade it or answer 2635."""
        self.version_calendar.expire(version, api, at)
        return self._version_info(version)

    def deprecate(self, version: str, header_text: str | None) -> dict:
        """Marketing API calls made with ``version`` carry
        ``X-Ad-Api-Version-Warning: header_text`` (``None`` stops it). Graph
        routes carry nothing: Meta documents no such header for them."""
        self.version_calendar.deprecate(version, header_text)
        return self._version_info(version)

    def drop_field(self, version: str, node_type: str, field: str) -> None:
        """From ``version`` on, ``field`` of ``node_type`` (``"ad_account"``
        or its label ``"AdAccount"``) does not exist: asked for, it answers
        100 "Tried accessing nonexisting field"; older versions return it."""
        self.version_calendar.drop_field(version, node_type, field)

    def change_endpoint(
        self, version: str, node_type: str, edge: str | None = None, method=None
    ) -> None:
        """``version`` changed this endpoint (``edge`` ``None``: every one of
        the node type, ``""``: the node itself; ``method`` ``None``: every
        method): an expired Marketing version is not auto-upgraded across
        it (2635)."""
        self.version_calendar.change_endpoint(version, node_type, edge, method)

    def _version_info(self, version: str) -> dict:
        return next(v for v in self.versions if v["version"] == version)

    # --- request log ---------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every Graph call answered so far (batch items too, ``in_batch``)."""
        with self._requests_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self._requests.append(request)

    # --- HTTP entry point ----------------------------------------------------

    def handle_http(self, method: str, raw_path: str, headers: dict, body: bytes):
        """Answer one HTTP request: ``(status, headers, body bytes)``."""
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.path == "/_sim" or parts.path.startswith("/_sim/"):
            return control.handle(self, method, parts.path, query, body)
        if parts.path.startswith(inbox.CDN_PREFIX):
            # Meta's CDN (attachments of messages, §6): not a Graph call.
            return inbox.serve_cdn(self, method, parts.path)
        if login_dialog.is_dialog_path(parts.path):
            # www.facebook.com's Login dialog: HTML, not a Graph call (§2.4).
            return login_dialog.handle(self, method, raw_path, headers, body)
        form = parse_body(headers, body)
        scripted = self.faults.take_scripted(method, parts.path)
        if self.faults.draw_hang() or (scripted and scripted.kind == "hang"):
            # Sleep before answering so that the client's read timeout fires.
            self._stopping.wait(self.faults.hang_seconds)
            scripted = None
        result = self.graph.execute(
            method, parts.path, query, form, headers, scripted=scripted
        )
        return result.status, result.headers, graph_json(result.body)

    # --- pages and tokens (§2.1) ---------------------------------------------

    def _now(self) -> int:
        return int(self.clock.now())

    def _new_token(self, token_type: str, value: str | None = None, **fields) -> str:
        value = value or self.ids.token(token_type.lower())
        now = self._now()
        data_access = now + DATA_ACCESS_SECONDS if token_type != SYSTEM_USER else 0
        fields.setdefault("data_access_expires_at", data_access)
        token = Token(value=value, type=token_type, issued_at=now, **fields)
        with self.store.lock:
            self.store.tokens[value] = token
            if token_type in (USER, SYSTEM_USER):
                for page_id in token.pages:
                    self._derive_page_token(token, page_id)
        return value

    def _derive_page_token(self, user_token: Token, page_id: str) -> str:
        """A page token as /me/accounts hands it out; it dies with its parent.

        Page tokens always belong to a person (§2.1): the token ``add_page``
        returned becomes the page token of the Page's *first* manager (it then
        inherits that manager's scopes and dies with its token); every later
        manager gets a page token of its own.
        """
        page = self.store.pages[page_id]
        own = self.store.tokens.get(page.access_token)
        if own is not None and own.parent is None and own.user_id is None:
            value = own.value
        else:
            value = self.ids.token("page")
        self.store.tokens[value] = Token(
            value=value,
            type=PAGE,
            user_id=user_token.user_id,
            scopes=None,
            pages=[page_id],
            page_id=page_id,
            parent=user_token.value,
            issued_at=user_token.issued_at,
            data_access_expires_at=user_token.data_access_expires_at,
            tasks=user_token.tasks,
        )
        self.store.page_tokens[(user_token.value, page_id)] = value
        return value

    def add_page(
        self,
        name: str = "Demo Mağaza",
        page_id: str | None = None,
        ig_account_id=None,
        *,
        category: str = "Shopping & Retail",
        username: str | None = None,
        ig_username: str | None = None,
    ) -> dict:
        """Create a Page (and its IG professional account when asked).

        ``ig_account_id=True`` creates an IG account with a seeded id.  The
        returned ``access_token`` is the Page's token: every scope while no
        manager exists, then the page token /me/accounts gives the first
        manager (``add_user_token(pages=[…])``), with that manager's scopes.
        """
        with self.store.lock:
            page_id = str(page_id) if page_id else self.ids.digits("page", 15, "10")
            self.ids.reserve(page_id)
            username = username or ascii_slug(name).replace(".", "")[:30]
            token_value = self.ids.token("page")
            page = Page(
                id=page_id,
                name=name,
                access_token=token_value,
                category=category,
                username=username,
                created_time=self._now(),
                fan_count=1000 + int(page_id[-3:]),
            )
            self.store.pages[page_id] = page
            self.store.register(PAGE_NODE, page)
            self.store.tokens[token_value] = Token(
                value=token_value,
                type=PAGE,
                scopes=list(ALL_SCOPES),
                pages=[page_id],
                page_id=page_id,
                issued_at=self._now(),
            )
            if ig_account_id:
                ig_id = (
                    self.ids.digits("ig", 17, "17841")
                    if ig_account_id is True
                    else str(ig_account_id)
                )
                self.ids.reserve(ig_id)
                ig = IgAccount(
                    id=ig_id,
                    username=ig_username or f"{username}.tr",
                    name=name,
                    page_id=page_id,
                    followers_count=2000 + int(ig_id[-3:]),
                )
                self.store.ig_accounts[ig_id] = ig
                self.store.register(IG_NODE, ig)
                page.ig_account_id = ig_id
            return self.page_info(page_id)

    def page_info(self, page_id: str) -> dict:
        page = self.store.pages[str(page_id)]
        ig = self.store.ig_accounts.get(page.ig_account_id or "")
        return {
            "id": page.id,
            "name": page.name,
            "category": page.category,
            "username": page.username,
            "access_token": page.access_token,
            "ig_account_id": ig.id if ig else None,
            "instagram_business_account": (
                {"id": ig.id, "username": ig.username} if ig else None
            ),
        }

    def _page_ids(self, pages) -> list[str]:
        page_ids = [str(p) for p in (pages or [])]
        for page_id in page_ids:
            if page_id not in self.store.pages:
                raise KeyError(f"unknown page {page_id}")
        return page_ids

    def _add_user(self, name: str, page_ids: list[str], tasks) -> User:
        """A person (or system user) with a seeded 15-digit id."""
        user = User(
            self.ids.digits("user", 15, "10"), name, list(page_ids), tuple(tasks)
        )
        self.store.users[user.id] = user
        self.store.register(USER_NODE, user)
        return user

    def add_user_token(
        self,
        scopes=None,
        pages=None,
        token_type: str = USER,
        expires_at: int = 0,
        *,
        user_name: str | None = None,
        tasks=ADMIN_TASKS,
        access_token: str | None = None,
        ad_accounts=None,
        business_id: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """A user or system-user token (all scopes by default) managing ``pages``.

        ``/me/accounts`` with it lists those pages with page tokens derived
        from it (they inherit its scopes and die with it).  ``access_token``
        fixes the token string (e.g. the ``EAAtoken123`` test vector, §2.3).
        ``ad_accounts`` (``act_…`` ids) are granted to it (``/me/adaccounts``);
        ``business_id`` makes it a system user of that business.  ``user_id``
        gives the token to an existing person (``add_person``; ``pages``
        then defaults to the Pages that person manages); otherwise a new
        person is created.
        """
        if token_type not in (USER, SYSTEM_USER):
            raise ValueError("token_type must be USER or SYSTEM_USER")
        with self.store.lock:
            person = None
            if user_id is not None:
                person = self.store.users[str(user_id)]
                if pages is None:
                    pages = person.pages
            page_ids = self._page_ids(pages)
            account_ids = [str(a) for a in (ad_accounts or [])]
            for account_id in account_ids:
                if account_id not in self.store.ad_accounts:
                    raise KeyError(f"unknown ad account {account_id}")
            if (
                business_id is not None
                and str(business_id) not in self.store.businesses
            ):
                raise KeyError(f"unknown business {business_id}")
            if person is None:
                default_name = (
                    "Sistem Kullanıcısı" if token_type == SYSTEM_USER else None
                )
                name = user_name or default_name or "Ayşe Yönetici"
                person = self._add_user(name, page_ids, tasks)
            return self._new_token(
                token_type,
                value=access_token,
                user_id=person.id,
                scopes=list(ALL_SCOPES if scopes is None else scopes),
                pages=page_ids,
                expires_at=int(expires_at or 0),
                tasks=tuple(tasks),
                ad_accounts=account_ids,
                business_id=str(business_id) if business_id is not None else None,
            )

    # --- Facebook Login: persons, the dialog, codes (§2.4) -------------------

    def add_person(
        self,
        name: str = "Ayşe Yılmaz",
        pages=None,
        *,
        tasks=ADMIN_TASKS,
        login: bool = False,
    ) -> dict:
        """A person with a Facebook account who manages ``pages`` (with
        ``tasks``); the Login dialog offers those Pages.  ``login=True`` also
        logs the person in (``login_as``).  ``{"id", "name", "pages"}``."""
        with self.store.lock:
            person = self._add_user(name, self._page_ids(pages), tasks)
            person.person = True
            if login:
                self.store.session_person = person.id
            return self.person_info(person.id)

    def person_info(self, person_id: str) -> dict:
        person = self.store.users[str(person_id)]
        return {"id": person.id, "name": person.name, "pages": list(person.pages)}

    def login_as(self, person_id: str) -> None:
        """Log the person in on the simulated www.facebook.com: the Login
        dialog then asks them to continue (one session for every browser)."""
        with self.store.lock:
            if str(person_id) not in self.store.users:
                raise KeyError(f"unknown person {person_id}")
            self.store.session_person = str(person_id)

    def logout(self) -> None:
        """Nobody is logged in: the dialog shows its login form first."""
        with self.store.lock:
            self.store.session_person = None

    @property
    def logged_in_person(self) -> str | None:
        """The id of the person logged in on www.facebook.com, if any."""
        return self.store.session_person

    def set_oauth_redirect_uris(self, uris) -> list[str]:
        """App Dashboard → Facebook Login → Valid OAuth Redirect URIs: the
        dialog only redirects to one of these, compared exactly (§2.4)."""
        with self.store.lock:
            self.store.oauth_redirect_uris = [str(uri) for uri in uris]
            return list(self.store.oauth_redirect_uris)

    @property
    def oauth_redirect_uris(self) -> list[str]:
        return list(self.store.oauth_redirect_uris)

    def add_login_configuration(
        self, scopes, name: str = "Odoo bağlantısı", *, config_id=None
    ) -> str:
        """A Facebook Login for Business configuration (user access token)
        asking ``scopes``; returns its ``config_id`` for the dialog."""
        with self.store.lock:
            value = str(config_id) if config_id else self.ids.digits("config", 16, "1")
            self.ids.reserve(value)
            self.store.login_configs[value] = LoginConfiguration(
                value, name, [str(scope) for scope in scopes]
            )
            return value

    @property
    def www_url(self) -> str:
        """The stand-in for ``https://www.facebook.com`` (the same server as
        :attr:`base_url`): the Login dialog lives at ``/{version}/dialog/oauth``."""
        return self.base_url

    def dialog_url(
        self,
        redirect_uri: str,
        *,
        state: str | None = None,
        scope=None,
        config_id: str | None = None,
        version: str = CURRENT_VERSION,
        client_id: str | None = None,
        **params,
    ) -> str:
        """The Login dialog URL an app redirects the browser to (manual flow).

        ``scope`` may be a list; other ``params`` (``response_type``,
        ``auth_type``, …) are passed as given."""
        query = {"client_id": client_id or self.app_id, "redirect_uri": redirect_uri}
        if state is not None:
            query["state"] = state
        if scope is not None:
            query["scope"] = scope if isinstance(scope, str) else ",".join(scope)
        if config_id is not None:
            query["config_id"] = config_id
        query.update({k: str(v) for k, v in params.items() if v is not None})
        prefix = f"/{version}" if version else ""
        return f"{self.www_url}{prefix}/dialog/oauth?{urlencode(query)}"

    # --- business assets -----------------------------------------------------

    def add_business(self, name: str = "Anadolu Holding") -> dict:
        """A business portfolio (Business Manager); ``{"id", "name"}``."""
        with self.store.lock:
            business = Business(
                self.ids.digits("business", 15, "11"), name, self._now()
            )
            self.store.businesses[business.id] = business
            self.store.register(BUSINESS_NODE, business)
            return {"id": business.id, "name": business.name}

    def add_ad_account(
        self,
        name: str = "Reklam Hesabı",
        business_id: str | None = None,
        *,
        currency: str = "TRY",
        account_status: int = 1,
        timezone_name: str = "Europe/Istanbul",
        client_business_ids=(),
        custom_audience_tos: bool = True,
    ) -> dict:
        """An ad account owned by ``business_id`` (and reached as a client by
        ``client_business_ids``); ``{"id": "act_…", "account_id", "name"}``.

        ``custom_audience_tos``: the Custom Audience terms are accepted for
        it (the default: an account already advertising with audiences);
        ``False`` plays a fresh account, where creating an audience or
        uploading people fails with 200/1870090 (§7.1)."""
        with self.store.lock:
            account = AdAccount(
                account_id=self.ids.digits("ad_account", 15, "12"),
                name=name,
                currency=currency,
                account_status=account_status,
                timezone_name=timezone_name,
                business_id=str(business_id) if business_id else None,
                client_business_ids=[str(b) for b in client_business_ids],
                custom_audience_tos=bool(custom_audience_tos),
            )
            self.store.ad_accounts[account.id] = account
            self.store.register(AD_ACCOUNT_NODE, account)
            return {"id": account.id, "account_id": account.account_id, "name": name}

    # --- Custom Audiences (§7) -------------------------------------------------

    def set_custom_audience_tos(self, ad_account_id: str, accepted: bool = True):
        """Accept (or withdraw) the Custom Audience terms for the ad account
        (``GET act_…?fields=tos_accepted`` shows ``custom_audience_tos: 1``)."""
        with self.store.lock:
            self.store.ad_accounts[str(ad_account_id)].custom_audience_tos = bool(
                accepted
            )

    def _new_audience(self, ad_account_id: str, name: str, **fields):
        now = self._now()
        audience = CustomAudience(
            id=self.ids.digits("audience", 17, "238"),
            ad_account_id=ad_account_id,
            name=name,
            time_created=now,
            time_updated=now,
            members=audiences.MemberSet(),
            **fields,
        )
        self.store.audiences[audience.id] = audience
        self.store.register(AUDIENCE_NODE, audience)
        return audience

    def _delete_audience(self, audience) -> None:
        with self.store.lock:
            self.store.audiences.pop(audience.id, None)
            self.store.objects.pop(audience.id, None)

    def add_custom_audience(
        self,
        ad_account_id: str,
        name: str = "Müşteri Listesi",
        members=(),
        *,
        description: str | None = None,
        customer_file_source: str = "USER_PROVIDED_ONLY",
        schema_type: str | None = None,
    ) -> dict:
        """A customer-file audience made directly (no terms check, no HTTP).

        ``members``: dicts of matching key → value (``{"EMAIL": sha256,
        "EXTERN_ID": "42"}``) stored as given; with members the schema type
        defaults to multi-key (``MULTI_HASHES``).  Returns :meth:`audience`.
        """
        with self.store.lock:
            account_id = str(ad_account_id)
            if account_id not in self.store.ad_accounts:
                raise KeyError(f"unknown ad account {account_id}")
            rows = [{k: str(v) for k, v in dict(m).items() if v} for m in members]
            audience = self._new_audience(
                account_id,
                name,
                description=description,
                customer_file_source=customer_file_source,
                schema_type=schema_type or (audiences.MULTI_HASHES if rows else None),
            )
            account = self.store.ad_accounts[account_id]
            audiences.link_extern_ids(account, rows)
            for row in rows:
                audience.members.add(row)
            return self.audience(audience.id)

    def audience(self, audience_id: str) -> dict:
        """What the simulator knows of an audience: ``id``, ``ad_account_id``,
        ``name``, ``subtype``, ``description``, ``customer_file_source``,
        ``schema_type`` (fixed by the first upload), ``member_count`` (exact),
        ``approximate_count_lower_bound``/``upper_bound`` (what Graph shows),
        ``operation_status``, ``delivery_status``, ``flag_code``,
        ``replace_session`` (the open replace's ``{"session_id", "started_at",
        "num_received", "last_batch_seq"}`` or None), ``sessions`` (every
        upload session: id → kind, ended_by, counts), ``origin_audience_id``,
        ``lookalike_spec``, ``time_created``, ``time_updated``."""
        with self.store.lock:
            audience = self.store.audiences[str(audience_id)]
            audiences.refresh(audience, self.clock.now())
            count = audiences.size(audience, self.store)
            lower, upper = audiences.size_bounds(count)
            running = audience.sessions.get(audience.replace_session)
            return {
                "id": audience.id,
                "ad_account_id": audience.ad_account_id,
                "name": audience.name,
                "subtype": audience.subtype,
                "description": audience.description,
                "customer_file_source": audience.customer_file_source,
                "schema_type": audience.schema_type,
                "member_count": count,
                "approximate_count_lower_bound": lower,
                "approximate_count_upper_bound": upper,
                "operation_status": audiences.operation_status(audience),
                "delivery_status": audiences.delivery_status(audience, count),
                "flag_code": audience.flag_code,
                "replace_session": {
                    "session_id": running.id,
                    "started_at": running.started_at,
                    "num_received": running.num_received,
                    "last_batch_seq": running.last_batch_seq,
                    "staged_count": len(running.staged),
                }
                if running
                else None,
                "sessions": {
                    s.id: {
                        "kind": s.kind,
                        "ended_by": s.ended_by,
                        "num_received": s.num_received,
                        "num_invalid_entries": s.num_invalid_entries,
                        "last_batch_seq": s.last_batch_seq,
                    }
                    for s in audience.sessions.values()
                },
                "origin_audience_id": audience.origin_audience_id,
                "lookalike_spec": dict(audience.lookalike_spec)
                if audience.lookalike_spec
                else None,
                "time_created": audience.time_created,
                "time_updated": audience.time_updated,
            }

    def audience_ids(self, ad_account_id: str | None = None) -> list[str]:
        """Ids of the audiences (of one ad account), oldest first."""
        with self.store.lock:
            return [
                a.id
                for a in self.store.audiences.values()
                if ad_account_id is None or a.ad_account_id == str(ad_account_id)
            ]

    def audience_members(self, audience_id: str) -> list[dict]:
        """The people in the audience now, oldest first: dicts of matching
        key → value as uploaded (``{"EMAIL": "<sha256>", "EXTERN_ID": "7"}``;
        single-key uploads under the key's name, e.g. ``EMAIL``).  A replace
        still running does not show until its session closes."""
        with self.store.lock:
            audience = self.store.audiences[str(audience_id)]
            audiences.refresh(audience, self.clock.now())
            return audience.members.rows()

    def audience_finds(self, audience_id: str, key: str, value: str) -> bool:
        """Is someone in the audience found by this identifier (``key`` a
        schema key, ``value`` as uploaded: a hash, or the ``EXTERN_ID``)?
        Earlier rows of a person count: uploading never takes anyone out."""
        with self.store.lock:
            audience = self.store.audiences[str(audience_id)]
            audiences.refresh(audience, self.clock.now())
            return audience.members.finds(key, value)

    def flag_audience(self, audience_id: str, code: int = 471) -> None:
        """Flag the audience as Meta's integrity review does
        (``operation_status`` 471: membership edits answer 100/1713230, a
        lookalike from it 100/1713232); ``code=200`` lifts the flag."""
        if code not in (200, 471):
            raise ValueError("code must be 471 (flagged) or 200 (normal)")
        with self.store.lock:
            self.store.audiences[str(audience_id)].flag_code = int(code)

    def add_dataset(
        self, name: str = "Pixel", business_id: str | None = None, ad_account_id=None
    ) -> dict:
        """A dataset (pixel) of a business and/or an ad account; ``{"id", "name"}``."""
        with self.store.lock:
            dataset = Dataset(
                id=self.ids.digits("dataset", 15, "13"),
                name=name,
                business_id=str(business_id) if business_id else None,
                ad_account_ids=[str(ad_account_id)] if ad_account_id else [],
                creation_time=self._now(),
            )
            self.store.datasets[dataset.id] = dataset
            self.store.register(DATASET_NODE, dataset)
            return {"id": dataset.id, "name": name}

    def dataset_events(self, dataset_id: str, test: bool = False) -> list[dict]:
        """The Conversions API events the dataset kept, in arrival order, as
        sent (an ``(event_name, event_id)`` repeated within 48 h is kept
        once); ``test=True``: those sent with a ``test_event_code``."""
        with self.store.lock:
            dataset = self.store.datasets[str(dataset_id)]
            return [dict(e) for e in (dataset.test_events if test else dataset.events)]

    def set_page_business(self, page_id: str, business_id: str) -> None:
        """Make ``business_id`` own the Page (``/{business}/owned_pages``)."""
        with self.store.lock:
            self.store.page_business[str(page_id)] = str(business_id)

    def page_token(self, user_token: str, page_id: str) -> str:
        """The page token /me/accounts gives ``user_token`` for ``page_id``."""
        return self.store.page_tokens[(user_token, str(page_id))]

    def token_info(self, token: str) -> Token:
        return self.store.tokens[token]

    def invalidate_token(self, token: str, subcode: int = 460) -> None:
        """Kill a token as Meta does: 190 + ``subcode`` from now on (§9.1).

        Page tokens derived from a user token die with it (password change).
        """
        with self.store.lock:
            self.store.tokens[token].invalid_subcode = int(subcode)

    def revoke_scope(self, token: str, scope: str) -> None:
        """Remove a granted permission (page tokens derived from it lose it too)."""
        with self.store.lock:
            record = self.store.tokens[token]
            scopes = self.store.scopes_of(record)
            record.scopes = [s for s in scopes if s != scope]

    def deny_object(self, object_id: str, code: int = 10, subcode=None) -> None:
        """Answer a permission error (10 or 200-299) for this object and its
        children (page → forms → leads)."""
        with self.store.lock:
            self.store.denied[str(object_id)] = (int(code), subcode)

    def allow_object(self, object_id: str) -> None:
        with self.store.lock:
            self.store.denied.pop(str(object_id), None)

    # --- subscriptions (§4.1) ------------------------------------------------

    def subscriptions(self, page_id: str) -> list[str]:
        """Fields our app is subscribed to on the Page (empty: not subscribed)."""
        with self.store.lock:
            return list(self.store.subscriptions.get(str(page_id), []))

    def set_subscription(self, page_id: str, fields) -> None:
        """Subscribe directly, as if ``POST subscribed_apps`` had been called."""
        with self.store.lock:
            if fields:
                self.store.subscriptions[str(page_id)] = list(fields)
            else:
                self.store.subscriptions.pop(str(page_id), None)

    def set_callback(
        self,
        url: str,
        verify_token: str | None = None,
        *,
        fields=None,
        object: str = "page",  # noqa: A002 - Meta's parameter name
        verify: bool = False,
    ) -> CallbackConfig:
        """The app-level webhook callback (§4.1 step 1).

        ``verify=True`` runs the GET handshake first and raises if the
        endpoint does not echo the challenge (as the App Dashboard refuses).
        """
        if verify:
            status, body, challenge = self.webhooks.handshake(url, verify_token or "")
            if status != 200 or body != challenge:
                raise RuntimeError(f"callback verification failed: {status} {body!r}")
        self.callback = CallbackConfig(
            url, verify_token, tuple(fields) if fields else None, object
        )
        return self.callback

    def _on_disabled(self, report) -> None:
        """Meta disables the webhook and unsubscribes the Pages (§4.4)."""
        with self.store.lock:
            for update in report.dropped:
                entry_id = str(update.entry_id)
                ig = self.store.ig_accounts.get(entry_id)
                page_id = ig.page_id if ig else entry_id
                self.store.subscriptions.pop(page_id, None)
            if self.callback is not None:
                self.callback.disabled = True

    # --- forms and leads (§5) ------------------------------------------------

    def add_form(
        self,
        page_id: str,
        name: str = "İletişim Formu",
        questions=None,
        locale: str = "tr_TR",
        status: str = "ACTIVE",
        *,
        created_time=None,
        form_id: str | None = None,
    ) -> dict:
        """A lead form; default questions: full_name, email, phone_number,
        city and a multiple-choice custom question (§5.3)."""
        with self.store.lock:
            page_id = str(page_id)
            if page_id not in self.store.pages:
                raise KeyError(f"unknown page {page_id}")
            form_id = str(form_id) if form_id else self.ids.digits("form", 16, "1")
            self.ids.reserve(form_id)
            prepared = []
            for question in questions or default_questions():
                question = dict(question)
                question.setdefault("type", "CUSTOM")
                question.setdefault(
                    "key", ascii_slug(question.get("label", "soru")).replace(" ", "_")
                )
                question.setdefault("label", question["key"])
                question.setdefault("id", self.ids.digits("question", 15, "3"))
                prepared.append(question)
            form = Form(
                id=form_id,
                page_id=page_id,
                name=name,
                questions=prepared,
                locale=locale,
                status=status,
                created_time=self._unix(created_time),
            )
            self.store.forms[form_id] = form
            self.store.register(FORM_NODE, form)
            self.store.page_forms[page_id].append(form_id)
            return {
                "id": form.id,
                "page_id": page_id,
                "name": form.name,
                "status": form.status,
                "locale": form.locale,
                "created_time": iso_time(form.created_time),
                "questions": [dict(q) for q in form.questions],
            }

    def _unix(self, value) -> int:
        if value is None:
            return self._now()
        if isinstance(value, dt.datetime):
            return payloads.unix_seconds(value)
        return int(value)

    def _ads_for(self, form: Form) -> list[dict]:
        """A small seeded ad hierarchy per form, shared by its paid leads."""
        ads = self._ads.get(form.id)
        if ads is None:
            campaign_id = self.ids.digits("campaign", 18, "120")
            adsets = [self.ids.digits("adset", 18, "120") for _ in range(2)]
            ads = []
            for number in range(3):
                adset = adsets[number % 2]
                ads.append(
                    {
                        "ad_id": self.ids.digits("ad", 18, "120"),
                        "ad_name": f"Reklam {number + 1} – {form.name}",
                        "adset_id": adset,
                        "adset_name": f"Reklam seti {number % 2 + 1} – Türkiye",
                        "campaign_id": campaign_id,
                        "campaign_name": f"Kampanya – {form.name}",
                    }
                )
            self._ads[form.id] = ads
        return ads

    def _build_lead(self, form: Form, options: dict) -> Lead:
        field_data = options.get("field_data")
        if field_data is None:
            field_data = self._faker.answers(form.questions)
        elif isinstance(field_data, dict):
            field_data = [
                {"name": k, "values": list(v) if isinstance(v, list | tuple) else [v]}
                for k, v in field_data.items()
            ]
        else:
            field_data = [
                {"name": row["name"], "values": list(row["values"])}
                for row in field_data
            ]
        is_organic = bool(options.get("is_organic", False))
        ad = {}
        if not is_organic:
            ad = dict(self._lead_rng.choice(self._ads_for(form)))
            for key in ad:
                if options.get(key) is not None:
                    ad[key] = str(options[key])
        lead_id = options.get("lead_id")
        lead_id = str(lead_id) if lead_id else self.ids.digits("lead", 15, "9")
        self.ids.reserve(lead_id)
        return Lead(
            id=lead_id,
            form_id=form.id,
            page_id=form.page_id,
            created_time=self._unix(options.get("created_time")),
            field_data=field_data,
            platform=options.get("platform") or "fb",
            is_organic=is_organic,
            custom_disclaimer_responses=options.get("custom_disclaimer_responses"),
            partner_name=options.get("partner_name"),
            is_test=bool(options.get("is_test", False)),
            **ad,
        )

    def _store_leads(self, leads: list[Lead]) -> None:
        with self.store.lock:
            for lead in leads:
                self.store.leads[lead.id] = lead
                self.store.register(LEAD_NODE, lead)
            by_form: dict[str, list[Lead]] = {}
            for lead in leads:
                by_form.setdefault(lead.form_id, []).append(lead)
            for form_id, group in by_form.items():
                index = self.store.form_leads[form_id]
                if len(group) == 1:
                    index.add(group[0])
                else:
                    index.extend(group)

    @staticmethod
    def lead_dict(lead: Lead) -> dict:
        """A lead as Graph renders it, plus ``page_id`` and ``created_timestamp``."""
        data = {k: v for k, v in lead_full(lead).items() if v is not None}
        data["page_id"] = lead.page_id
        data["created_timestamp"] = lead.created_time
        return data

    def add_lead(
        self,
        form_id: str,
        field_data=None,
        created_time=None,
        ad_id=None,
        ad_name=None,
        adset_id=None,
        adset_name=None,
        campaign_id=None,
        campaign_name=None,
        platform: str = "fb",
        is_organic: bool = False,
        custom_disclaimer_responses=None,
        *,
        partner_name=None,
        lead_id=None,
    ) -> dict:
        """One lead (seeded 15-digit id); answers generated when not given."""
        options = dict(locals())
        options.pop("self")
        with self.store.lock:
            form = self.store.forms[str(form_id)]
            lead = self._build_lead(form, options)
            self._store_leads([lead])
        return self.lead_dict(lead)

    def add_leads(
        self,
        form_id: str,
        n: int,
        *,
        start=None,
        end=None,
        ig_share: float = 0.3,
        organic_share: float = 0.0,
    ) -> list[dict]:
        """``n`` realistic Turkish leads spread over [start, end] (default: the
        last 30 days), fast enough for benchmarks (one sort for all)."""
        with self.store.lock:
            form = self.store.forms[str(form_id)]
            end_ts = self._unix(end)
            start_ts = self._unix(start) if start is not None else end_ts - 30 * 86400
            rng = self._lead_rng
            leads = []
            for _ in range(int(n)):
                options = {
                    "created_time": rng.randint(start_ts, end_ts),
                    "platform": "ig" if rng.random() < ig_share else "fb",
                    "is_organic": rng.random() < organic_share,
                }
                leads.append(self._build_lead(form, options))
            self._store_leads(leads)
        return [self.lead_dict(lead) for lead in leads]

    def _create_test_lead(self, form: Form, field_data, disclaimers) -> Lead:
        """``POST /{form}/test_leads``: organic, dummy answers, webhook sent."""
        if field_data is None:
            field_data = [
                {
                    "name": q["key"],
                    "values": [
                        "test@fb.com"
                        if q.get("type") == "EMAIL"
                        else f"<test lead: dummy data for {q['key']}>"
                    ],
                }
                for q in form.questions
            ]
        options = {
            "field_data": field_data,
            "is_organic": True,
            "is_test": True,
            "custom_disclaimer_responses": disclaimers,
        }
        lead = self._build_lead(form, options)
        self._store_leads([lead])
        form.test_lead_id = lead.id
        self._deliver_leadgen(self.lead_dict(lead), None, background=True)
        return lead

    def _delete_lead(self, lead: Lead) -> None:
        with self.store.lock:
            self.store.leads.pop(lead.id, None)
            self.store.objects.pop(lead.id, None)
            self.store.form_leads[lead.form_id].remove(lead)
            form = self.store.forms.get(lead.form_id)
            if form is not None and form.test_lead_id == lead.id:
                form.test_lead_id = None

    def submit_lead(
        self,
        form_id: str,
        *,
        callback_url: str | None = None,
        background: bool = False,
        retry: bool = True,
        time_scale: float = DEFAULT_TIME_SCALE,
        **lead_fields,
    ) -> dict:
        """A person submits a form: create the lead and send its ``leadgen``
        webhook — to ``callback_url``, or to the app callback when the Page is
        subscribed to ``leadgen`` (unless ``drop_webhooks``)."""
        lead = self.add_lead(form_id, **lead_fields)
        self._deliver_leadgen(
            lead,
            callback_url,
            background=background,
            retry=retry,
            time_scale=time_scale,
        )
        return lead

    # --- posts and comments (§4.5, §6.3) -----------------------------------------

    def add_post(
        self,
        page_id: str,
        message: str = "Yeni koleksiyon",
        created_time=None,
        ad_id=None,
    ) -> dict:
        """A Page post (``{page_id}_{n}``); ``ad_id`` makes it boosted."""
        with self.store.lock:
            page = self.store.pages[str(page_id)]
            number = self.ids.digits("post", 15, "7")
            post = comments.Post(
                id=f"{page.id}_{number}",
                platform=comments.FACEBOOK,
                account_id=page.id,
                page_id=page.id,
                message=message,
                created_time=self._unix(created_time),
                permalink=f"https://www.facebook.com/{page.id}/posts/{number}",
                ad_id=str(ad_id) if ad_id else None,
            )
            return self._store_post(post)

    def add_ig_media(
        self,
        ig_id: str,
        caption: str = "",
        media_product_type="FEED",
        created_time=None,
        ad_id=None,
    ) -> dict:
        """An Instagram media of the account ``ig_id``."""
        with self.store.lock:
            ig = self.store.ig_accounts[str(ig_id)]
            media_id = self.ids.digits("media", 17, "179")
            post = comments.Post(
                id=media_id,
                platform=comments.INSTAGRAM,
                account_id=ig.id,
                page_id=ig.page_id,
                message=caption,
                created_time=self._unix(created_time),
                permalink=f"https://www.instagram.com/p/{media_id[-11:]}/",
                ad_id=str(ad_id) if ad_id else None,
                media_product_type=media_product_type,
                author_username=ig.username,
            )
            return self._store_post(post)

    def _store_post(self, post) -> dict:
        self.social_posts[post.id] = post
        self.store.register(post.node_type, post)
        return {**comments.post_full(post), "ad_id": post.ad_id}

    def add_comment(
        self,
        object_id: str,
        text: str,
        *,
        from_id=None,
        from_name=None,
        username=None,
        parent_id=None,
        created_time=None,
        deliver=True,
        background=False,
        callback_url=None,
    ) -> dict:
        """A person comments on a post or media, or answers a comment
        (``object_id`` a comment, or ``parent_id`` one: a reply). A new
        commenter gets a scoped id; ``from_id`` reuses one (the Page's or
        the Instagram account's own id: the account itself writes). The
        webhooks Meta sends for it (and ``mentions`` for the Instagram
        accounts it @mentions) are delivered unless ``deliver=False``."""
        with self.store.lock:
            if parent_id:
                parent = self.social_comments[str(parent_id)]
                if str(object_id) not in (parent.post_id, parent.id):
                    raise ValueError(f"{parent_id} is not a comment of {object_id}")
            else:
                parent = self.social_comments.get(str(object_id))
            post = self.social_posts[parent.post_id if parent else str(object_id)]
            author_id = str(from_id or self.ids.digits("person", 16, "8"))
            account = self._social_account(post)
            own = account is not None and author_id == account.id
            comment = self._new_comment(
                post,
                parent,
                author_id=author_id,
                author_name=from_name or (account.name if own else "Ayşe Yılmaz"),
                username=username
                or (getattr(account, "username", "") if own else "ayse.yilmaz"),
                text=text,
                created_time=self._unix(created_time),
            )
            mentioned = self._comment_mentions(comment)
        if deliver:
            self._social_deliver(
                comment, "add", comment.created_time, background, callback_url
            )
            for ig in mentioned:
                self._deliver_mention(
                    ig,
                    comment.post_id,
                    comment.id,
                    callback_url,
                    when=comment.created_time,
                    background=background,
                )
        return self.comment(comment.id)

    def _social_account(self, post):
        """The Page or Instagram account owning ``post`` (None: not ours)."""
        if post.platform == comments.FACEBOOK:
            return self.store.pages.get(post.account_id)
        return self.store.ig_accounts.get(post.account_id)

    def _comment_mentions(self, comment) -> list:
        """The Instagram accounts an Instagram comment @mentions, other than
        its author and the media's owner (who gets ``comments``): each may
        read it as ``mentioned_comment`` (§6.3, [U] for the owner)."""
        if comment.platform != comments.INSTAGRAM:
            return []
        names = comments.mentioned_usernames(comment.text)
        found = [
            ig
            for ig in self.store.ig_accounts.values()
            if ig.username.lower() in names
            and ig.id not in (comment.author_id, comment.account_id)
        ]
        for ig in found:
            self.social_mentions.setdefault(ig.id, set()).add(comment.id)
        return found

    def _ig_person(self, post, scoped_id, username, name=""):
        """Register a commenter of an Instagram account (their IGSID)."""
        person = self.store.lookup(scoped_id)
        if person is None and post.platform == comments.INSTAGRAM and post.page_id:
            person = comments.IgPerson(
                id=scoped_id, page_id=post.page_id, username=username, name=name
            )
            self.store.register(IG_PERSON_NODE, person)
        return person

    def set_messaged(self, scoped_id: str, name: str | None = None) -> None:
        """The person sent the account a message: their profile becomes
        readable (User Profile API consent)."""
        with self.store.lock:
            _node_type, person = self.store.lookup(str(scoped_id))
            person.messaged = True
            if name is not None:
                person.name = name

    def _new_comment(self, post, parent, **values):
        if post.platform == comments.FACEBOOK:
            comment_id = (
                f"{post.id.split('_')[-1]}_{self.ids.digits('comment', 15, '9')}"
            )
        else:
            comment_id = self.ids.digits("igcomment", 17, "178")
        top = parent
        if parent and parent.parent_id and post.platform == comments.FACEBOOK:
            # Facebook threads are one level deep: a reply to a reply joins
            # the thread of its top comment
            top = self.social_comments[parent.parent_id]
        comment = comments.Comment(
            id=comment_id,
            platform=post.platform,
            account_id=post.account_id,
            page_id=post.page_id,
            post_id=post.id,
            parent_id=top.id if top else "",
            **values,
        )
        self.social_comments[comment.id] = comment
        self.store.register(comment.node_type, comment)
        if not comment.from_account:
            self._ig_person(post, comment.author_id, comment.username)
        if top:
            top.replies.append(comment.id)
        else:
            post.comment_ids.append(comment.id)
        return comment

    def edit_comment(self, comment_id: str, text: str, deliver=True) -> dict:
        """The author edits a comment (Facebook reports it, Instagram not)."""
        with self.store.lock:
            comment = self.social_comments[str(comment_id)]
            comment.text = text
        if deliver:
            self._social_deliver(comment, "edited", int(self.clock.now()))
        return self.comment(comment.id)

    def remove_comment(self, comment_id: str, deliver=True) -> dict:
        """The author deletes their comment."""
        with self.store.lock:
            comment = self.social_comments[str(comment_id)]
        self._social_remove(comment, deliver=deliver, background=False)
        return self.comment(comment.id)

    def set_comment_hidden(self, comment_id: str, hidden=True, deliver=True) -> dict:
        """The Page hides or shows a comment in Meta's own tools."""
        with self.store.lock:
            comment = self.social_comments[str(comment_id)]
        self._social_set_hidden(comment, hidden, deliver=deliver, background=False)
        return self.comment(comment.id)

    def private_reply(self, comment_id: str, text: str) -> dict:
        """A private reply sent by another tool (Meta Business Suite)."""
        with self.store.lock:
            comment = self.social_comments[str(comment_id)]
            return self._social_private_reply(comment, text)

    def comment(self, comment_id: str) -> dict:
        """A comment's state: text, hidden, deleted, replies, private replies."""
        with self.store.lock:
            comment = self.social_comments[str(comment_id)]
            return {
                "id": comment.id,
                "platform": comment.platform,
                "post_id": comment.post_id,
                "parent_id": comment.parent_id,
                "from_id": comment.author_id,
                "text": comment.text,
                "created_time": comment.created_time,
                "hidden": comment.hidden,
                "deleted": comment.deleted,
                "replies": list(comment.replies),
                "private_replies": [dict(m) for m in comment.private_replies],
            }

    def comments(self, object_id: str) -> list[dict]:
        """The comments of a post or media (top-level), or a comment's replies."""
        with self.store.lock:
            owner = self.social_comments.get(str(object_id))
            ids = (
                owner.replies
                if owner
                else self.social_posts[str(object_id)].comment_ids
            )
        return [self.comment(i) for i in ids]

    def private_replies(self, comment_id: str | None = None) -> list[dict]:
        with self.store.lock:
            found = (
                [self.social_comments[str(comment_id)]]
                if comment_id
                else list(self.social_comments.values())
            )
            return [dict(m) for c in found for m in c.private_replies]

    def add_mention(
        self,
        ig_id: str,
        text: str,
        *,
        username="elif.kaya",
        in_comment=True,
        created_time=None,
        deliver=True,
        callback_url=None,
    ) -> dict:
        """Another account @mentions ``ig_id``: in a comment on its media
        (``in_comment``) or in its media's caption; the ``mentions`` webhook
        follows. Returns ``{"media_id", "comment_id"}``."""
        with self.store.lock:
            when = self._unix(created_time)
            media_id = self.ids.digits("media", 17, "179")
            media = comments.Post(
                id=media_id,
                platform=comments.INSTAGRAM,
                account_id=self.ids.digits("ig", 17, "17841"),
                page_id=None,
                message=text if not in_comment else "Bugünün kombini",
                created_time=when,
                permalink=f"https://www.instagram.com/p/{media_id[-11:]}/",
                author_username=username,
            )
            self.social_posts[media.id] = media
            comment_id = ""
            if in_comment:
                comment = self._new_comment(
                    media,
                    None,
                    author_id=self.ids.digits("person", 16, "8"),
                    author_name="",
                    username=username,
                    text=text,
                    created_time=when,
                )
                comment_id = comment.id
            self.social_mentions.setdefault(str(ig_id), set()).add(
                comment_id or media.id
            )
            ig = self.store.ig_accounts[str(ig_id)]
        if deliver:
            self._deliver_mention(
                ig, media.id, comment_id or None, callback_url, when=when
            )
        return {"media_id": media.id, "comment_id": comment_id}

    def mention_in_caption(
        self, ig_id: str, media_id: str, *, deliver=True, callback_url=None
    ) -> dict:
        """The caption of ``media_id`` (another account's media, §6.3)
        @mentions ``ig_id``: the media becomes readable as its
        ``mentioned_media`` and the ``mentions`` webhook ``{media_id}``
        follows. Returns ``{"media_id"}``."""
        with self.store.lock:
            ig = self.store.ig_accounts[str(ig_id)]
            media = self.social_posts[str(media_id)]
            if media.platform != comments.INSTAGRAM:
                raise ValueError(f"{media_id} is not an Instagram media")
            if ig.username.lower() not in comments.mentioned_usernames(media.message):
                media.message = f"{media.message} @{ig.username}".strip()
            self.social_mentions.setdefault(ig.id, set()).add(media.id)
        if deliver:
            self._deliver_mention(ig, media.id, None, callback_url)
        return {"media_id": media.id}

    def _deliver_mention(
        self, ig, media_id, comment_id, callback_url, *, when=None, background=False
    ):
        """The ``mentions`` webhook of ``ig``: ``{comment_id, media_id}`` or,
        for a caption, ``{media_id}`` (§6.3)."""
        url = self._ig_target("mentions", callback_url)
        if url:
            delivery = payloads.instagram_mention(
                ig.id, media_id, comment_id, time=when or int(self.clock.now())
            )
            self._deliver(url, [delivery], background, {})

    # --- Messenger and Instagram conversations (§6) -------------------------------

    def receive_dm(
        self,
        page_id: str,
        user_id: str,
        text: str | None = None,
        *,
        channel: str = "messenger",
        attachments=None,
        story_reply=None,
        reply_to: str | None = None,
        ad_id=None,
        name: str | None = None,
        username: str | None = None,
        at=None,
        deliver=True,
        callback_url=None,
    ) -> dict:
        """A person writes to the Page (``channel="instagram"``: to its
        Instagram account); ``ad_id``: from a click-to-message ad.

        ``attachments``: types (``"image"``, ``"video"``, ``"audio"``,
        ``"file"``, ``"sticker"``, ``"share"``, ``"story_mention"``) or dicts
        ``{"type", "payload"?, "data"?, "content_type"?, "name"?}``; media
        without a URL are served by the simulator's CDN. ``story_reply``
        (Instagram): True or ``{"url", "id"}``; ``reply_to``: the mid
        answered. The messaging webhook (``standby`` while another app owns
        the thread) is delivered unless ``deliver=False``. Returns
        ``{"mid", "time", "attachments"}``."""
        with self.store.lock:
            conversation = self._dm_conversation(
                page_id, user_id, channel, name=name, username=username, person=True
            )
            channel = conversation.channel
            found = inbox.inbound_attachments(self, channel, attachments)
            if text is None and not (found.attachments or found.unsupported):
                if not story_reply:
                    raise ValueError("a message needs text or attachments")
            body, story = {}, found.story
            if story_reply:
                reply, replied = inbox.story_reply(self, channel, story_reply)
                body["reply_to"], story = reply, {**(story or {}), **replied}
            elif reply_to:
                body["reply_to"] = {"mid": str(reply_to), "is_self_reply": False}
            when = self._dm_when(at)
            self._dm_touch(conversation, when, ad_id)
            message = self._dm_new_message(
                conversation,
                conversation.user_id,
                when,
                text=text,
                attachments=found.attachments,
                files=found.files,
                story=story,
                reply_to=body.get("reply_to"),
                unsupported=found.unsupported,
            )
            if found.unsupported:
                body["is_unsupported"] = True
            if text is not None:
                body["text"] = text
            if found.attachments:
                body["attachments"] = copy.deepcopy(found.attachments)
            if ad_id:
                body["referral"] = inbox.referral(ad_id)
            payload = self._dm_event(
                conversation, when, "message", {"mid": message.id, **body}
            )
        if deliver:
            self._dm_deliver(conversation, "message", payload, callback_url)
        return {
            "mid": message.id,
            "time": when,
            "attachments": copy.deepcopy(message.attachments),
        }

    def receive_reaction(
        self,
        page_id: str,
        user_id: str,
        mid: str,
        emoji: str = "❤",
        action: str = "react",
        *,
        channel: str | None = None,
        at=None,
        deliver=True,
        callback_url=None,
    ) -> str:
        """The person reacts to (or ``action="unreact"``) a message of the
        conversation: ``message_reactions``. Returns the mid."""
        if action not in ("react", "unreact"):
            raise ValueError("action is react or unreact")
        with self.store.lock:
            conversation = self._dm_existing(page_id, user_id, channel)
            message = self._dm_message_of(conversation, mid)
            when = self._dm_when(at)
            body = {"mid": message.id, "action": action}
            if action == "react":
                message.reactions[conversation.user_id] = emoji
                reaction = inbox.reaction_name(conversation.channel, emoji)
                body.update({"reaction": reaction, "emoji": emoji})
                self._dm_touch(conversation, when)
            else:
                message.reactions.pop(conversation.user_id, None)
            payload = self._dm_event(conversation, when, "reaction", body)
        if deliver:
            self._dm_deliver(conversation, "reaction", payload, callback_url)
        return message.id

    def receive_postback(
        self,
        page_id: str,
        user_id: str,
        title: str,
        payload: str,
        *,
        channel: str | None = None,
        ad_id=None,
        at=None,
        deliver=True,
        callback_url=None,
    ) -> str:
        """The person taps a button (Get Started, an ice breaker, a template
        button): ``messaging_postbacks``, with the ad's ``referral`` when
        ``ad_id``. The tap shows in the thread as its title. Returns the mid."""
        with self.store.lock:
            conversation = self._dm_conversation(page_id, user_id, channel, person=True)
            when = self._dm_when(at)
            self._dm_touch(conversation, when, ad_id)
            message = self._dm_new_message(
                conversation, conversation.user_id, when, text=title, kind="postback"
            )
            body = {"mid": message.id, "title": title, "payload": payload}
            if ad_id:
                body["referral"] = inbox.referral(ad_id)
            event = self._dm_event(conversation, when, "postback", body)
        if deliver:
            self._dm_deliver(conversation, "postback", event, callback_url)
        return message.id

    def receive_referral(
        self,
        page_id: str,
        user_id: str,
        ad_id,
        *,
        channel: str | None = None,
        ref: str | None = None,
        at=None,
        deliver=True,
        callback_url=None,
    ) -> dict:
        """The person comes back to the conversation from a click-to-message
        ad: ``messaging_referrals`` (Instagram ``messaging_referral``). The ad
        opens the 7-day window. Returns the ``referral``."""
        with self.store.lock:
            conversation = self._dm_conversation(page_id, user_id, channel, person=True)
            when = self._dm_when(at)
            self._dm_touch(conversation, when, ad_id)
            referral = inbox.referral(ad_id, ref)
            payload = self._dm_event(conversation, when, "referral", referral)
        if deliver:
            self._dm_deliver(conversation, "referral", payload, callback_url)
        return referral

    def delete_dm(
        self, page_id: str, user_id: str, mid: str, *, deliver=True, callback_url=None
    ) -> str:
        """The person unsends a message. Instagram tells with the same mid and
        ``is_deleted: true``; Messenger tells nothing [U]. Returns the mid."""
        with self.store.lock:
            conversation = self._dm_existing(page_id, user_id, None)
            message = self._dm_message_of(conversation, mid)
            if message.from_page:
                raise ValueError("a person deletes only their own messages")
            message.deleted = True
            payload = self._dm_event(
                conversation,
                self._dm_when(None),
                "message",
                {"mid": message.id, "is_deleted": True},
            )
        if deliver and conversation.channel == inbox.INSTAGRAM:
            self._dm_deliver(conversation, "message", payload, callback_url)
        return message.id

    def customer_receives(
        self, page_id: str, user_id: str, *, at=None, deliver=True, callback_url=None
    ) -> dict:
        """The person's Messenger received the Page's messages sent so far:
        ``message_deliveries`` ``{"mids", "watermark"}`` (the mids not
        reported before). Instagram sends no delivery receipts."""
        with self.store.lock:
            conversation = self._dm_existing(page_id, user_id, None)
            sent = conversation.page_messages()
            mids = [m.id for m in sent if m.id not in conversation.delivered]
            conversation.delivered.update(mids)
            watermark = int(max(m.time for m in sent) * 1000) if sent else None
            body = {"mids": mids, "watermark": watermark}
            payload = self._dm_event(conversation, self._dm_when(at), "delivery", body)
        if deliver and mids:
            self._dm_deliver(conversation, "delivery", payload, callback_url)
        return body

    def customer_reads(
        self, page_id: str, user_id: str, *, at=None, deliver=True, callback_url=None
    ) -> dict:
        """The person read the Page's messages sent so far: Messenger
        ``message_reads`` ``{"watermark"}``, Instagram ``messaging_seen``
        ``{"mid"}`` (the last one). Returns that ``read`` body."""
        with self.store.lock:
            conversation = self._dm_existing(page_id, user_id, None)
            sent = conversation.page_messages()
            if not sent:
                return {}
            last = max(sent, key=lambda m: (m.time, m.seq))
            if conversation.channel == inbox.INSTAGRAM:
                body = {"mid": last.id}
            else:
                body = {"watermark": int(last.time * 1000)}
            payload = self._dm_event(conversation, self._dm_when(at), "read", body)
        if deliver:
            self._dm_deliver(conversation, "read", payload, callback_url)
        return body

    def page_inbox_reply(
        self,
        page_id: str,
        user_id: str,
        text: str,
        *,
        deliver=True,
        callback_url=None,
    ) -> str:
        """Someone answers from Meta Business Suite (the Page or Instagram
        inbox, not our app): recorded and echoed with the inbox's app id
        and no metadata. Returns the mid."""
        with self.store.lock:
            conversation = self._dm_existing(page_id, user_id, None)
            message = self._dm_sent(
                conversation,
                text=text,
                app_id=inbox.inbox_app_id(conversation.channel),
            )
            payload = self._dm_echo(message)
        if deliver:
            self._dm_deliver(conversation, "echo", payload, callback_url)
        return message.id

    def set_thread_owner(
        self, page_id: str, user_id: str, app_id=None, *, channel=None
    ) -> None:
        """Conversation Routing: ``app_id`` owns the thread (None: idle).
        While another app (``inbox.PAGE_INBOX_APP_ID`` …) owns it, our app
        gets its events under ``standby`` and cannot send (10/2018300)."""
        with self.store.lock:
            conversation = self._dm_conversation(page_id, user_id, channel)
            conversation.thread_owner = str(app_id) if app_id else None

    def conversation(self, page_id: str, user_id: str) -> dict:
        """A conversation's state: its messages (ours with their tag)."""
        with self.store.lock:
            conversation = self.dm_conversations[(str(page_id), str(user_id))]
            return {
                "id": conversation.id,
                "channel": conversation.channel,
                "last_inbound": conversation.last_inbound,
                "ad_id": conversation.ad_id,
                "thread_owner": conversation.thread_owner,
                "messages": [m.as_dict() for m in conversation.messages],
            }

    def add_cdn_file(
        self, data: bytes, content_type: str | None = None, name: str = "file"
    ) -> str:
        """Serve ``data`` at ``{base_url}/cdn/{token}/{name}`` (a stand-in
        for Meta's CDN) and return that URL."""
        content_type = content_type or (
            mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        token = self.ids.token("cdn", prefix="", length=32)
        self.cdn_files[token] = inbox.CdnFile(bytes(data), content_type, name)
        return self.base_url + inbox.cdn_path(token, name)

    # the inbox's rules behind both the facade and the Graph routes

    def _dm_when(self, at) -> float:
        return float(at) if at is not None else self.clock.now()

    def _dm_conversation(
        self, page_id, user_id, channel=None, *, name=None, username=None, person=False
    ):
        """The conversation of ``user_id`` with the Page (made on first use;
        the store lock is held). ``person``: the person acted, which on
        Instagram makes their profile readable."""
        page = self.store.pages[str(page_id)]
        key = (page.id, str(user_id))
        conversation = self.dm_conversations.get(key)
        if conversation is None:
            channel = channel or inbox.MESSENGER
            if channel not in inbox.CHANNELS:
                raise ValueError(f"unknown channel {channel!r}")
            account_id = page.ig_account_id if channel == inbox.INSTAGRAM else page.id
            if not account_id:
                raise ValueError(f"Page {page.id} has no Instagram account")
            conversation = inbox.Conversation(
                channel=channel,
                account_id=account_id,
                page_id=page.id,
                user_id=str(user_id),
                id=inbox.conversation_id(self.ids, channel, account_id, user_id),
                name=name or "Ayşe Yılmaz",
                username=username or "ayse.yilmaz",
            )
            self.dm_conversations[key] = conversation
            self.store.register(inbox.CONVERSATION_NODE, conversation)
        elif channel and channel != conversation.channel:
            raise ValueError(f"{user_id} writes to Page {page.id} on another channel")
        conversation.name = name or conversation.name
        conversation.username = username or conversation.username
        if person and conversation.channel == inbox.INSTAGRAM:
            self._dm_ig_person(conversation)
        elif person:
            inbox.messenger_person(self, conversation)
        return conversation

    def _dm_ig_person(self, conversation) -> None:
        """An Instagram person who messaged: their profile becomes readable
        through the User Profile API (§6.3)."""
        found = self.store.lookup(conversation.user_id)
        if found is None:
            person = comments.IgPerson(
                id=conversation.user_id,
                page_id=conversation.page_id,
                username=conversation.username,
                name=conversation.name,
            )
            self.store.register(IG_PERSON_NODE, person)
        elif found[0] == IG_PERSON_NODE:
            person = found[1]
            conversation.username = person.username or conversation.username
        else:
            return
        person.messaged = True

    def _dm_existing(self, page_id, user_id, channel):
        conversation = self.dm_conversations.get((str(page_id), str(user_id)))
        if conversation is None:
            raise KeyError(f"no conversation of {user_id} with Page {page_id}")
        if channel and channel != conversation.channel:
            raise ValueError(f"the conversation is on {conversation.channel}")
        return conversation

    @staticmethod
    def _dm_message_of(conversation, mid):
        for message in conversation.messages:
            if message.id == str(mid):
                return message
        raise KeyError(f"no message {mid} in the conversation")

    @staticmethod
    def _dm_touch(conversation, when, ad_id=None):
        """The person acted (message, postback, referral, reaction): the
        standard window counts from now; an ad opens 7 days (§6, [U] for
        a later ad reopening them)."""
        conversation.last_inbound = max(conversation.last_inbound or 0, when)
        if ad_id:
            conversation.ad_opened_at = max(conversation.ad_opened_at or 0, when)
            conversation.ad_id = str(ad_id)

    def _dm_new_message(self, conversation, sender, when, **values):
        mid = "m_" + self.ids.token("mid", prefix="", length=32)
        recipient = (
            conversation.user_id
            if sender == conversation.account_id
            else conversation.account_id
        )
        message = inbox.Message(
            id=mid,
            page_id=conversation.page_id,
            conversation=conversation,
            sender=sender,
            recipient=recipient,
            time=when,
            seq=len(conversation.messages),
            **values,
        )
        conversation.messages.append(message)
        conversation.updated = max(conversation.updated, when)
        conversation.touched = next(self._dm_sequence)
        self.store.register(inbox.MESSAGE_NODE, message)
        return message

    def _dm_sent(self, conversation, *, text=None, app_id=None, **values):
        """The Page sent a message (the store lock is held): it is recorded;
        ``_dm_echo`` is what Meta then tells every app."""
        return self._dm_new_message(
            conversation,
            conversation.account_id,
            self.clock.now(),
            text=text,
            app_id=str(app_id or self.app_id),
            **values,
        )

    def _dm_echo(self, message) -> dict:
        conversation = message.conversation
        return payloads.messenger_echo(
            conversation.account_id,
            conversation.user_id,
            message.id,
            message.text,
            app_id=message.app_id,
            metadata=message.metadata,
            timestamp_ms=int(message.time * 1000),
            attachments=copy.deepcopy(message.attachments),
            object=conversation.object,
        )

    @staticmethod
    def _dm_event(conversation, when, key, body) -> dict:
        """A person's event (``key``: message, reaction, postback, read,
        delivery, referral) as one webhook payload."""
        return payloads.messaging_event(
            conversation.object,
            conversation.account_id,
            conversation.user_id,
            conversation.account_id,
            key,
            body,
            int(when * 1000),
        )

    def _dm_deliver(
        self, conversation, kind, payload, callback_url=None, *, background=False
    ):
        """Deliver an inbox event when the app (and, on Messenger, the Page)
        subscribed to its field; under ``standby`` while another app owns
        the thread (§13)."""
        field = inbox.webhook_field(conversation.channel, kind)
        if field is None:
            return None
        if inbox.standing_by(conversation, self.app_id):
            field, payload = "standby", payloads.standby(payload)
        url = self._dm_target(
            conversation.channel, conversation.page_id, field, callback_url
        )
        if url is None:
            return None
        return self._deliver(url, [payload], background, {})

    def _dm_target(self, channel, page_id, field, callback_url=None):
        """Messenger needs the Page subscribed to ``field``; Instagram sends
        every field the app subscribed to (§13)."""
        if channel == inbox.MESSENGER:
            return self._webhook_target(page_id, field, callback_url)
        return self._ig_target(field, callback_url)

    # the rules behind both the facade and the Graph routes

    def _social_reply(self, comment, text):
        """The account answers ``comment`` (routes hold the store lock)."""
        post = self.social_posts[comment.post_id]
        account = (
            self.store.pages[post.account_id]
            if post.platform == comments.FACEBOOK
            else self.store.ig_accounts[post.account_id]
        )
        reply = self._new_comment(
            post,
            comment,
            author_id=account.id,
            author_name=account.name,
            username=getattr(account, "username", "") or "",
            text=text,
            created_time=int(self.clock.now()),
        )
        self._social_deliver(reply, "add", reply.created_time, background=True)
        return reply

    # A change made through a Graph call is delivered in the background: the
    # call holds the store's lock, and the receiver may be calling back.

    def _social_set_hidden(self, comment, hidden, deliver=True, background=True):
        comment.hidden = bool(hidden)
        if deliver:
            verb = "hide" if hidden else "unhide"
            self._social_deliver(comment, verb, int(self.clock.now()), background)

    def _social_remove(self, comment, deliver=True, background=True):
        comment.deleted = True
        if deliver:
            self._social_deliver(comment, "remove", int(self.clock.now()), background)

    def _social_private_reply(self, comment, text):
        sent = {
            "comment_id": comment.id,
            "recipient_id": comment.author_id,
            "message_id": "m_" + self.ids.token("message", prefix="", length=40),
            "text": text,
            "time": int(self.clock.now()),
        }
        comment.private_replies.append(sent)
        return sent

    def _social_deliver(self, comment, verb, when, background=False, callback_url=None):
        for delivery in comments.deliveries_for(self, comment, verb, when):
            url = self._social_target(comment, callback_url)
            if url is not None:
                self._deliver(url, [delivery], background, {})

    def _social_target(self, comment, callback_url):
        """Facebook comments need the Page subscribed to ``feed``; Instagram
        ones the app's ``comments`` field."""
        if comment.platform == comments.FACEBOOK:
            return self._webhook_target(comment.page_id, "feed", callback_url)
        return self._ig_target("comments", callback_url)

    def _ig_target(self, field, callback_url):
        """Instagram has no per-account choice of fields: an account gets
        every field the app subscribed to (§6.3). Meta also wants the linked
        Page to have enabled Page subscriptions; not checked here."""
        if self.drop_webhooks:
            return None
        if callback_url:
            return callback_url
        callback = self.callback
        if callback is None or callback.disabled:
            return None
        if callback.fields is not None and field not in callback.fields:
            return None
        return callback.url

    def _webhook_target(self, page_id: str, field: str, callback_url: str | None):
        if self.drop_webhooks:
            return None
        if callback_url:
            return callback_url
        callback = self.callback
        if callback is None or callback.disabled:
            return None
        if callback.fields is not None and field not in callback.fields:
            return None
        if field not in self.subscriptions(page_id):
            return None
        return callback.url

    def _deliver_leadgen(self, lead: dict, callback_url, *, background, **options):
        url = self._webhook_target(lead["page_id"], "leadgen", callback_url)
        if url is None:
            return None
        payload = payloads.leadgen_change(lead)
        return self._deliver(url, [payload], background, options)

    def _deliver(self, url, events, background, options):
        def run():
            return self.webhooks.deliver_changes(url, events, **options)

        if background:
            threading.Thread(target=run, name="meta-webhook", daemon=True).start()
            return None
        return run()

    def send_webhooks(
        self,
        events,
        *,
        callback_url: str | None = None,
        background: bool = False,
        **options,
    ):
        """Deliver arbitrary payloads to ``callback_url`` or the app callback
        (``deliver_changes`` options apply); None when nothing was sent."""
        if self.drop_webhooks:
            return None
        url = callback_url or (
            self.callback.url if self.callback and not self.callback.disabled else None
        )
        if url is None:
            return None
        return self._deliver(url, events, background, options)

    # --- app callbacks ----------------------------------------------------------

    def _app_callback(self, kind, callback_url, user_id, secret, issued_at):
        payload = {
            "algorithm": "HMAC-SHA256",
            "issued_at": int(self._now() if issued_at is None else issued_at),
            "user_id": str(user_id),
        }
        result = callbacks.send(
            kind, callback_url, payload, self.app_secret if secret is None else secret
        )
        self.app_callbacks.append(result)
        return result

    def send_deauthorize(self, callback_url, user_id, *, secret=None, issued_at=None):
        """A person removed the app: POST Meta's signed deauthorize request.

        ``secret`` signs with another secret (a forgery); ``issued_at`` dates it."""
        return self._app_callback(
            "deauthorize", callback_url, user_id, secret, issued_at
        )

    def send_data_deletion(self, callback_url, user_id, *, secret=None, issued_at=None):
        """A person asked Meta to delete their data: POST the signed request;
        the result tells whether the app answered ``{"url", "confirmation_code"}``."""
        return self._app_callback(
            "data_deletion", callback_url, user_id, secret, issued_at
        )

    def __repr__(self) -> str:
        state = "running" if self._server else "stopped"
        return f"<MetaSimulator {self.base_url} seed={self.seed} {state}>"
