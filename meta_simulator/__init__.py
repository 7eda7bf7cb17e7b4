"""A local, deterministic imitation of Meta's Graph API and webhooks.

It stands in for ``graph.facebook.com`` in every test, benchmark and demo,
so it follows Meta's documented behaviour (``docs/meta-facts.md``) —
including the unpleasant parts: error shapes and codes, token death,
``appsecret_proof``, cursor paging with short pages, 90-day lead expiry,
usage headers, throttling, batching, and webhooks that arrive batched,
duplicated, shuffled and retried.  It is an independent implementation: it
imports nothing from ``meta_graph_connector``.

Python API
==========

::

    from meta_simulator import MetaSimulator, FakeClock, payloads

    with MetaSimulator(seed=0, app_id="111111", app_secret="sim_app_secret",
                       require_appsecret_proof=True, clock=None) as sim:
        page = sim.add_page("Demo Mağaza", ig_account_id=True)
        token = sim.add_user_token(pages=[page["id"]], token_type="SYSTEM_USER")
        form = sim.add_form(page["id"], "Teklif")
        sim.add_leads(form["id"], 500)
        requests.get(f"{sim.base_url}/v26.0/{form['id']}/leads", params={...})

State: ``add_page``, ``add_user_token``, ``page_token``, ``add_form``,
``add_lead``, ``add_leads``, ``submit_lead``; token lifecycle:
``invalidate_token``, ``revoke_scope``; ``deny_object``/``allow_object``;
``faults`` (``error_rate``, ``hang_rate``/``hang_seconds``, ``short_pages``,
``throttle()``, ``reset()``); ``requests``/``clear_requests()``; ``clock``;
``app_call_budget``/``buc_call_budget``/``enforce_usage_limits``;
``subscriptions(page_id)``, ``set_subscription``; ``set_callback``; ``webhooks`` (a
:class:`~meta_simulator.webhooks.WebhookSender`); ``drop_webhooks``.

Facebook Login (manual flow and Facebook Login for Business, §2.4)::

    person = sim.add_person("Ayşe Yılmaz", pages=[page["id"]])  # id, name, pages
    sim.login_as(person["id"])          # or add_person(..., login=True); logout()
    sim.set_oauth_redirect_uris(["https://odoo.example/meta/oauth/callback"])
    config_id = sim.add_login_configuration(["pages_show_list", "leads_retrieval"])
    url = sim.dialog_url(redirect_uri, state="…", config_id=config_id)  # or scope=[…]

``add_person(name, pages, *, tasks, login)``, ``person_info``, ``login_as``,
``logout``, ``logged_in_person``, ``set_oauth_redirect_uris(uris)``,
``oauth_redirect_uris``, ``add_login_configuration(scopes, name, *,
config_id)`` → ``config_id``, ``dialog_url(redirect_uri, *, state, scope,
config_id, version, client_id, **params)``, ``www_url`` (the stand-in for
``www.facebook.com``: the same server as ``base_url``),
``login_token_seconds`` (``expires_in`` of the token a code buys, 5400);
``add_user_token(user_id=…)`` mints a token for an existing person.

Posts and comments (§4.5, §6.3)::

    post = sim.add_post(page_id, message="…", created_time=…, ad_id=None)
    media = sim.add_ig_media(ig_id, caption="…", media_product_type="FEED",
                             created_time=…, ad_id=None)
    comment = sim.add_comment(post["id"], "Fiyat?", from_id="7001",
                              from_name="Ayşe", deliver=True)  # its webhooks
    sim.add_comment(comment["id"], "…")   # a reply (Facebook: one level deep)
    sim.add_comment(post["id"], "…", parent_id=comment["id"])  # the same
    sim.add_comment(post["id"], "…", from_id=page_id)  # the Page writes
    sim.edit_comment(id, "…"); sim.remove_comment(id)
    sim.set_comment_hidden(id, True)      # moderation in Meta's own tools
    sim.private_reply(id, "…")            # sent by another tool
    sim.comment(id); sim.comments(post_or_comment_id); sim.private_replies(id)
    sim.add_mention(ig_id, "@demo …")     # another account's comment/caption
    sim.mention_in_caption(ig_id, media_id)  # an existing media's caption

``add_comment(object_id, text, *, from_id, from_name, username, parent_id,
created_time, deliver, background)``; an Instagram comment @mentioning
another Instagram account of the simulator is its ``mentioned_comment`` and
sends it ``mentions``. Facade methods return plain dicts (``comment``: id,
platform, post_id, parent_id, from_id, text, created_time, hidden, deleted,
replies, private_replies).

Graph: ``GET {page}/feed`` (Page token) and ``GET {ig}/media`` (``since`` /
``until``, newest first), ``GET {post}``, ``GET {media}``,
``GET {post|media}/comments`` (Facebook ``filter=toplevel|stream``,
``order=chronological|reverse_chronological``), ``GET {comment}``,
``GET {comment}/comments`` (Facebook replies), ``GET {ig-comment}/replies``,
``POST {comment}/comments`` / ``POST {ig-comment}/replies`` (Instagram:
top-level, visible only, else 100), ``POST {comment}`` with ``is_hidden`` /
``hide``, ``DELETE {comment}`` (then 100/33), and private replies
``POST {page}/messages`` with ``recipient.comment_id`` (once: 10900; after
7 days or to the Page's own comment: 10903). Scopes: reads
``pages_read_engagement`` / ``instagram_basic`` + ``instagram_manage_comments``,
changes ``pages_manage_engagement`` / ``instagram_manage_comments`` (Page
token), private replies ``pages_messaging`` (an Instagram comment's also
``instagram_manage_comments``); 200 when one is missing. Every change
is a signed webhook (``feed`` verbs ``add``, ``edited``, ``remove``,
``hide``, ``unhide``; Instagram ``comments`` on creation and ``mentions``),
doubled for a boosted post or an ad (the copy carries the ad).

Messenger and Instagram conversations (§6)::

    sim.receive_dm(page_id, "PSID_1", "Merhaba", ad_id=None,
                   channel="messenger")      # its messaging webhook
    sim.receive_dm(page_id, "PSID_1", attachments=["image", "audio",
                   "video", "file", "sticker", "share"])  # URLs on our CDN
    sim.receive_dm(page_id, "IGSID_1", channel="instagram",
                   attachments=["story_mention"])          # or story_reply=True
    sim.receive_reaction(page_id, "PSID_1", mid, emoji="❤", action="react")
    sim.receive_postback(page_id, "PSID_1", "Başla", "GET_STARTED", ad_id=None)
    sim.receive_referral(page_id, "PSID_1", ad_id)   # opens the 7 days
    sim.delete_dm(page_id, "IGSID_1", mid)           # Instagram is_deleted
    sim.customer_receives(page_id, "PSID_1")  # delivery {mids, watermark}
    sim.customer_reads(page_id, "PSID_1")     # read {watermark} / IG {mid}
    sim.page_inbox_reply(page_id, "PSID_1", "…")  # from Meta Business Suite
    sim.set_thread_owner(page_id, "PSID_1", inbox.PAGE_INBOX_APP_ID)  # None
    url = sim.add_cdn_file(b"%PDF…", "application/pdf", "teklif.pdf")
    sim.conversation(page_id, "PSID_1")     # id, thread_owner, messages
    sim.human_agent_enabled = True          # the app has Human Agent

``receive_dm(page_id, user_id, text=None, *, channel, attachments,
story_reply, reply_to, ad_id, name, username, at, deliver, callback_url)`` →
``{"mid", "time", "attachments"}``: an attachment is a type or a dict
``{"type", "payload"?, "data"?, "content_type"?, "name"?}``; media without a
URL are served by the simulator at ``{base_url}/cdn/{token}/{name}``
(``share`` is ``fallback`` on Messenger, an Instagram ``sticker`` is
``is_unsupported``). ``receive_reaction(…, channel=None)``,
``receive_postback(…, channel=None, ad_id=None)`` and ``delete_dm`` return
the mid, ``receive_referral(…, channel=None, ref=None)`` the ``referral``,
``customer_receives`` ``{"mids", "watermark"}`` (the mids not reported
before; Instagram sends nothing), ``customer_reads`` the ``read`` body,
``page_inbox_reply`` the mid (echoed with the Page Inbox app id
263902037430900, Instagram Inbox 1217981644879628, no metadata). A
message, a postback, a referral or a reaction restarts the 24 h window; an
ad (``ad_id``, a referral) opens 7 days. Webhook fields: Page ``messages``,
``message_echoes``, ``message_deliveries``, ``message_reads``,
``message_reactions``, ``messaging_postbacks``, ``messaging_referrals``
(the Page must be subscribed); Instagram ``messages`` (echoes too),
``messaging_seen``, ``message_reactions``, ``messaging_postbacks``,
``messaging_referral`` (the app's fields). While another app owns the
thread (``set_thread_owner``) every event comes under ``entry[].standby[]``
(field ``standby``) and our sends answer 10/2018300.

``POST {page}/messages`` with ``recipient.id``: text or one attachment
``{"type": "image|video|audio|file", "payload": {"url"|"attachment_id",
"is_reusable"}}`` (else 100; Instagram refuses ``file``; ``is_reusable``
answers an ``attachment_id``), ``message.metadata`` ≤ 1000; the window: 24 h
(7 days after an ad), ``HUMAN_AGENT`` for 7 days, 10/2018278 (Messenger) or
10/2534022 (Instagram) outside, 100 for the removed tags; every send is
echoed with the app id, the metadata and ``attachments [{type,
payload: {url}}]``. Conversations API: ``GET {page}/conversations``
(``platform=messenger|instagram``, ``user_id``, last updated first;
``participants``, ``messages.limit(n){…}``), ``GET {conversation}``,
``GET {conversation}/messages`` (newest first; beyond the 20 latest only
``id``), ``GET {message}`` (``id, created_time, from, to, message,
attachments, shares, sticker, story``; older than the 20 latest: 100);
Page token with ``pages_messaging`` + ``pages_read_engagement`` +
``pages_manage_metadata`` (Instagram ``instagram_basic`` +
``instagram_manage_messages`` + ``pages_manage_metadata``); with
``enforce_usage_limits`` 2 calls per second per Page or Instagram account,
then 613 with the usage headers (BUC type ``messenger``).

Custom Audiences (§7)::

    account = sim.add_ad_account("Reklam", business_id, custom_audience_tos=True)
    sim.set_custom_audience_tos(account["id"], False)   # 200/1870090 from now on
    seed = sim.add_custom_audience(account["id"], "Tohum",
                                   members=[{"EMAIL": sha256_hex}, ...])
    sim.audience(audience_id)          # info: member_count, statuses, sessions …
    sim.audience_members(audience_id)  # [{"EMAIL": …, "EXTERN_ID": …}, …]
    sim.flag_audience(audience_id)     # operation_status 471; code=200 lifts it
    sim.audience_ids(account["id"])
    sim.requests[-1].json_param("payload")   # exactly what the client sent

API versions (§1.2): a calendar on ``sim.clock``, Graph and Marketing API apart::

    sim.versions        # oldest first: [{"version": "v21.0", "released":
                        #   "2024-10-02", "graph_expires": "2027-01-21",
                        #   "marketing_expires": "2025-09-09", "graph_live",
                        #   "marketing_live", "deprecation", "dropped_fields"}, …]
    sim.release_version("v28.0", released=clock.now() + 86400)  # 2500 until then
    sim.expire_version("v21.0", api="graph", at="2027-01-21")   # default: now
    sim.expire_version("v25.0", api="marketing")
    sim.deprecate("v25.0", "v25.0 will be deprecated on 2027-02-23")  # None: off
    sim.drop_field("v27.0", "Page", "link")   # or "page"; v27.0 and newer: 100
    sim.change_endpoint("v27.0", "AdAccount", "customaudiences", method="GET")

``release_version(version, released=None, *, graph_expires, marketing_expires)``,
``expire_version(version, api="graph"|"marketing", at=None)`` and
``deprecate(version, header_text)`` return that version's calendar entry;
times are Unix times, dates (00:00 UTC), datetimes or ISO texts. Seeded from
Meta's version pages: Graph v21.0 … v27.0 (v27.0 released 2026-11-04 for
both APIs; Graph v21.0 expires 2027-01-21), Marketing v21.0-v24.0 expired
(v24.0 on 2026-11-10), v25.0 expires 2027-02-23. ``sim.version_calendar``
is the :class:`~meta_simulator.graph.VersionCalendar` behind it.

* Graph: an expired version (or one older than the calendar) is served by
  the next live one, ``facebook-api-version`` says which; unversioned calls
  by the oldest live one. No warning header (Meta documents none for Graph).
* Marketing API routes (ad accounts, Custom Audiences, datasets and their
  CAPI ``/events``: node types in ``graph.MARKETING_NODES``, or a route
  registered with ``marketing=True``): an expired Marketing version is
  served by the next live Marketing version with ``X-Ad-Api-Version-Warning:
  The call has been auto-upgraded to v25.0 as v24.0 has been deprecated``,
  unless a version in between changed the endpoint (``change_endpoint``, or
  ``drop_field`` on the node type for its own ``GET``): then 2635 "(#2635)
  You are calling a deprecated version of the Ads API. Please update to the
  latest version: v27.0.". ``deprecate`` text rides in the same header on
  live versions.
* ``drop_field``: from that version on (by the version that serves the
  call), asking for the field answers 100 "(#100) Tried accessing
  nonexisting field (link) on node type (Page)", nested ``{…}`` included;
  among the default fields it is left out. Older versions still return it.

Graph endpoints (version = first path segment, see ``sim.versions``)
====================================================================

``GET debug_token``, ``GET|POST oauth/access_token`` (``client_credentials``,
``fb_exchange_token``, and the dialog's ``code`` + ``redirect_uri``), ``GET me``,
``GET me/accounts``, ``GET {page}``, ``GET {ig-user}``,
``GET|POST|DELETE {page}/subscribed_apps``, ``GET {page}/leadgen_forms``,
``GET {form}``, ``GET {form}/leads``, ``GET|POST {form}/test_leads``,
``GET|DELETE {lead}``, ``GET {app-id}``, ``POST /`` (batch);
business assets (``me/businesses``, ``me/adaccounts``, ``{business}/…``,
``GET act_{id}`` with ``tos_accepted``); Custom Audiences:
``GET|POST act_{id}/customaudiences`` (``CUSTOM``, ``LOOKALIKE``),
``DELETE act_{id}/usersofanyaudience``, ``GET|DELETE {audience}``,
``POST|DELETE {audience}/users``, ``POST {audience}/usersreplace``.
New endpoints: one decorated function in ``routes/<domain>.py`` (see
:mod:`meta_simulator.graph`).

Facebook Login dialog (HTML, on the same port; :mod:`~meta_simulator.login_dialog`)
===================================================================================

=======  ===========================  =========================================
GET      /dialog/oauth,               ``client_id``, ``redirect_uri``,
         /{version}/dialog/oauth      ``state``, ``response_type`` (``code``
                                      [+ ``granted_scopes``]), ``scope``
                                      (comma/space separated) or
                                      ``config_id``, ``auth_type``.  The
                                      consent page: ``form#oauth_dialog``,
                                      ``input[name=scopes]``,
                                      ``input[name=page_ids]`` (ticked),
                                      ``button[name=continue]``,
                                      ``button[name=cancel]``; logged out:
                                      ``form#login_form``,
                                      ``select[name=person_id]``,
                                      ``button[name=login]``; errors (400,
                                      never a redirect): ``#error_title``
                                      "Invalid App ID" / "URL Blocked" …
POST     /dialog/oauth/confirm        ``dialog_key`` (one time) + ticked
                                      boxes → 302 ``redirect_uri?code=…&
                                      state=…#_=_``; with ``cancel``: 302
                                      ``?error=access_denied&error_code=200&
                                      error_description=Permissions+error&
                                      error_reason=user_denied&state=…#_=_``
POST     /dialog/oauth/login          ``person_id``, ``next`` → 302 ``next``
=======  ===========================  =========================================

Control API (``/_sim/…`` on the same port, JSON in and out)
===========================================================

=======  ===========================  =========================================
GET      /_sim/health                 ``{"ok", "base_url", "seed"}``
GET      /_sim/fixture                what ``--fixture demo`` created
GET      /_sim/state                  pages, forms (lead counts), subscriptions
POST     /_sim/pages                  ``add_page`` kwargs → page
POST     /_sim/tokens                 ``add_user_token`` kwargs → access_token
POST     /_sim/tokens/invalidate      ``{"token", "subcode"}``
POST     /_sim/tokens/revoke_scope    ``{"token", "scope"}``
POST     /_sim/persons                ``add_person`` kwargs → person
POST     /_sim/login                  ``{"person_id"}`` (null: log out)
POST     /_sim/oauth/redirect_uris    ``{"uris": [...]}``
POST     /_sim/login_configurations   ``add_login_configuration`` kwargs →
                                      ``{"config_id"}``
POST     /_sim/forms                  ``add_form`` kwargs → form
POST     /_sim/leads                  ``add_lead`` kwargs, or ``form_id`` + ``n``;
                                      sends the leadgen webhook(s) unless
                                      ``"webhook": false`` (``callback_url``
                                      optional, else the configured callback
                                      if the Page subscribed ``leadgen``)
GET      /_sim/requests?since=N       recorded Graph requests
DELETE   /_sim/requests               clear the log
GET|POST /_sim/faults                 knobs ``error_rate``, ``hang_rate``,
                                      ``hang_seconds``, ``short_pages``,
                                      ``short_page_rate``; ``throttle``:
                                      ``{code, calls, regain_minutes,
                                      page_id}``; ``"reset": true``
POST     /_sim/deny, /_sim/allow      ``{"object_id", "code"}``
GET|POST /_sim/clock                  ``{"advance": seconds}`` → ``{"now"}``
POST     /_sim/callback               ``{"url", "verify_token", "fields",
                                      "verify"}`` app-level callback
GET|POST /_sim/subscriptions          ``?page_id=`` / ``{"page_id", "fields"}``
POST     /_sim/drop_webhooks          ``{"drop": true}``
POST     /_sim/webhooks               ``{"payloads": [...]}`` + deliver_changes
                                      options → counts, dropped keys
GET      /_sim/webhooks/log           every delivery attempt
POST     /_sim/handshake              GET-verification of the callback
=======  ===========================  =========================================

CLI
===

``python -m meta_simulator --port 8765 --seed 0 --fixture demo
[--state-file state.json] [--callback-url URL] [--oauth-redirect-uri URL …]``
prints one JSON line (``base_url`` and, with the demo fixture,
``system_user_token``, ``page_id``, ``page_token``, ``person_id`` (logged in,
manages the Page), ``ig_account_id``, ``form_ids``, ``lead_ids``, ``app_id``,
``app_secret``, ``verify_token``) and serves until interrupted.

Deliberate deviations from Meta
===============================

* Versions newer than the newest known one, unknown minors and versions
  released later on the clock (``release_version``) answer 2500 "Unknown
  path components" (Meta's answer is not documented). The seeded versions
  are served whatever the clock says (the test clock starts 2026-09-21,
  before v27.0 shipped) so the next version can be tried early; versions
  older than v21.0 count as expired (v20.0 really lived until 2026-09-24).
  Unversioned calls use the oldest live version, not an App Dashboard
  default; an expiry starts at 00:00 UTC of its day [U].
* Marketing API: "the endpoint did not change" is what ``change_endpoint`` /
  ``drop_field`` recorded (Meta's changelogs list it); a dropped field
  marks only its node's own ``GET``. 2635's type and HTTP status
  (``OAuthException``, 400) are [U]; no auto-upgrade opt-out switch.
* ``limit`` is capped silently at 100 on every edge.
* App tokens are exempt from ``appsecret_proof``; batch items reusing the
  batch token inherit its proof check; ``depends_on`` is not supported.
* Usage is a one-hour sliding window of the simulated clock against
  ``app_call_budget``/``buc_call_budget`` (Meta's formulas depend on
  engaged users and leads); used-up budgets only refuse calls when
  ``enforce_usage_limits`` is on, otherwise only ``faults.throttle`` does.
* Webhook retries resend the same bytes (re-batching is ``rebatch_rate``).
* ``POST subscribed_apps`` replaces the field list.
* Instagram ``comments`` / ``mentions`` webhooks go to the app callback
  when its fields allow them; the linked Page's own ``subscribed_apps``
  (which Meta also requires) is not checked.
* Inbox: the Send API does not fetch attachment URLs (no 2018008 for a URL
  Meta could not reach) and echoes them as given; templates, quick replies
  and ``POST {page}/message_attachments`` are not simulated; the CDN's URLs
  never expire; Messenger says nothing of an unsent message [U]; error 613
  for the Conversations API's 2 calls per second is [U].
* Custom Audiences: the terms are one flag per ad account (Meta: per
  user per business); every valid row matches one person; sizes, statuses
  and the replace timeout follow the [U] choices of §7; only customer-file
  audiences and lookalikes exist; lookalikes are ready at once.
* The Login dialog has one login session for every browser (``login_as``),
  no password, and forgets earlier grants (each dialog asks afresh,
  ``auth_type`` is accepted and ignored); ``response_type=token`` and
  system-user (business integration) configurations are not simulated.
  A refused code exchange does not use the code up.
"""

from . import payloads
from .clock import Clock, FakeClock
from .errors import GraphError
from .faults import Faults, Throttle
from .graph import (
    CURRENT_VERSION,
    VERSIONS,
    ApiVersion,
    RecordedRequest,
    VersionCalendar,
)
from .simulator import CallbackConfig, MetaSimulator
from .webhooks import (
    DEFAULT_TIME_SCALE,
    RETRY_OFFSETS,
    Delivery,
    DeliveryReport,
    Update,
    WebhookSender,
)

__all__ = [
    "ApiVersion",
    "CURRENT_VERSION",
    "CallbackConfig",
    "Clock",
    "DEFAULT_TIME_SCALE",
    "Delivery",
    "DeliveryReport",
    "FakeClock",
    "Faults",
    "GraphError",
    "MetaSimulator",
    "RETRY_OFFSETS",
    "RecordedRequest",
    "Throttle",
    "Update",
    "VERSIONS",
    "VersionCalendar",
    "WebhookSender",
    "payloads",
]
