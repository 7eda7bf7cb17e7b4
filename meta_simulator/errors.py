"""Graph errors in Meta's wire shape (docs/meta-facts.md §9.1).

Handlers raise :class:`GraphError`; the router turns it into
``{"error": {"message", "type", "code", "error_subcode"?, "is_transient",
"fbtrace_id"}}`` with the HTTP status Meta uses (400 for almost everything,
500 for transient server faults; throttling is *not* 429, §9.1).

Message texts imitate Meta's but clients must never branch on them.
"""

from dataclasses import dataclass, field

OAUTH = "OAuthException"
METHOD = "GraphMethodException"


@dataclass(eq=False)
class GraphError(Exception):
    """One Graph API error answer."""

    code: int
    message: str
    subcode: int | None = None
    type: str = OAUTH
    http_status: int = 400
    is_transient: bool = False
    user_title: str | None = None
    user_msg: str | None = None
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(self.message)

    def body(self, fbtrace_id: str) -> dict:
        """The JSON document Meta answers for this error."""
        error = {"message": self.message, "type": self.type, "code": self.code}
        # §9.1: error_subcode only appears when there is one.
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_title:
            error["error_user_title"] = self.user_title
        if self.user_msg:
            error["error_user_msg"] = self.user_msg
        error["is_transient"] = self.is_transient
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def numbered(code: int, text: str) -> str:
    """Meta prefixes most (not all) messages with ``(#code)``."""
    return f"(#{code}) {text}"


# --- request / routing errors ------------------------------------------------


def unknown_object(method: str, object_id: str) -> GraphError:
    """Unknown id *or* no access: Meta deliberately gives one answer (100/33)."""
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does "
        "not exist, cannot be loaded due to missing permissions, or does not "
        "support this operation. Please read the Graph API documentation at "
        "https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type=METHOD,
    )


def unknown_alias(name: str) -> GraphError:
    """A non-numeric first path segment that names nothing."""
    return GraphError(
        803, numbered(803, f"Some of the aliases you requested do not exist: {name}")
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(2500, f"Unknown path components: {path}")


def nonexisting_field(name: str, node_type: str) -> GraphError:
    text = f"Tried accessing nonexisting field ({name}) on node type ({node_type})"
    return GraphError(100, numbered(100, text))


def deprecated_ads_version(latest: str) -> GraphError:
    """A Marketing API call on an expired version whose endpoint changed
    since (code 2635, §1.2); the text as Meta's 2024-04-16 blog quotes it,
    the type and HTTP status are [U]."""
    return GraphError(
        2635,
        numbered(
            2635,
            "You are calling a deprecated version of the Ads API. Please update "
            f"to the latest version: {latest}.",
        ),
    )


def invalid_param(text: str, subcode: int | None = None) -> GraphError:
    return GraphError(100, numbered(100, text), subcode=subcode)


# --- authentication ----------------------------------------------------------


def token_required_me() -> GraphError:
    """What Meta answers for ``/me`` without any token (code 2500)."""
    return GraphError(
        2500,
        "An active access token must be used to query information about the "
        "current user.",
    )


def token_required() -> GraphError:
    """What Meta answers for an object id without any token (code 104)."""
    return GraphError(104, "An access token is required to request this resource.")


def _oauth_challenge(message: str) -> dict:
    """Meta adds an RFC 6750 style challenge header to token errors."""
    return {
        "WWW-Authenticate": f'OAuth "Facebook Platform" "invalid_token" "{message}"'
    }


def token_unparseable() -> GraphError:
    message = "Invalid OAuth access token - Cannot parse access token"
    return GraphError(190, message, headers=_oauth_challenge(message))


_INVALID_TOKEN_TEXT = {
    458: "Error validating access token: The user has not authorized application "
    "{app_id}.",
    459: "Error validating access token: You cannot access the app till you log in "
    "to www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because "
    "the user changed their password or Facebook has changed the session for "
    "security reasons.",
    463: "Error validating access token: Session has expired on {expired}. The "
    "current time is {now}.",
    464: "Error validating access token: Sessions for the user are not allowed "
    "because the user is not a confirmed user.",
    467: "Error validating access token: The session is invalid because the user "
    "logged out.",
}


def token_invalid(subcode: int, *, app_id: str = "", expired="", now="") -> GraphError:
    """Error 190 with the subcode telling why (docs/meta-facts.md §9.1)."""
    template = _INVALID_TOKEN_TEXT.get(
        subcode, "Error validating access token: The session is invalid."
    )
    message = template.format(app_id=app_id, expired=expired, now=now)
    return GraphError(190, message, subcode=subcode, headers=_oauth_challenge(message))


def proof_missing() -> GraphError:
    # §2.3 "Require App Secret": calls without a proof fail.
    return GraphError(
        100,
        "API calls from the server require an appsecret_proof argument",
        type=METHOD,
    )


def proof_invalid() -> GraphError:
    return GraphError(
        100, "Invalid appsecret_proof provided in the API argument", type=METHOD
    )


def proof_time_expired() -> GraphError:
    # §2.3: the time-stamped proof is only good for 5 minutes.
    return GraphError(
        100,
        "appsecret_time is too old or in the future; appsecret_proof expires "
        "after 5 minutes",
        type=METHOD,
    )


# --- permissions -------------------------------------------------------------


def permission(code: int = 200, text: str = "Permissions error", subcode=None):
    """Missing scope/task or denied object (codes 10 and 200-299, §9.1)."""
    return GraphError(code, numbered(code, text), subcode=subcode)


def app_capability() -> GraphError:
    """Code 3, "API Method": the app lacks the capability for the call (§9.1)."""
    return GraphError(
        3,
        numbered(3, "Application does not have the capability to make this API call."),
    )


def missing_scope(scope: str, code: int = 200) -> GraphError:
    return permission(code, f"Requires {scope} permission to manage the object")


def page_token_required() -> GraphError:
    return GraphError(
        210, numbered(210, "A page access token is required to request this resource.")
    )


# --- faults ------------------------------------------------------------------

_THROTTLE_TEXT = {
    4: "Application request limit reached",
    17: "User request limit reached",
    32: "Page request limit reached",
    613: "Calls to this api have exceeded the rate limit.",
    80000: "There have been too many calls from this ad-account. Wait a bit and "
    "try again.",
    80001: "There have been too many calls to this Page account. Wait a bit and "
    "try again.",
    80002: "There have been too many calls to this Instagram account. Wait a bit "
    "and try again.",
    80003: "There have been too many calls for this custom audience. Wait a bit "
    "and try again.",
    80004: "There have been too many calls to this ad-account. Wait a bit and try "
    "again.",
    80005: "There have been too many leadgen api calls to this Page. Wait a bit "
    "and try again.",
    80006: "There have been too many messenger api calls to this Page. Wait a bit "
    "and try again.",
}

THROTTLE_CODES = frozenset(_THROTTLE_TEXT)


def throttled(code: int) -> GraphError:
    """A rate-limit answer: HTTP 400 (never 429) with is_transient (§9.1, F8)."""
    if code not in _THROTTLE_TEXT:
        raise ValueError(f"not a Meta throttle code: {code}")
    return GraphError(code, numbered(code, _THROTTLE_TEXT[code]), is_transient=True)


def transient(code: int = 2) -> GraphError:
    """Meta's own hiccups: codes 1/2 with is_transient, HTTP 500 (§9.1)."""
    if code == 1:
        return GraphError(
            1,
            "An unknown error occurred",
            subcode=99,
            http_status=500,
            is_transient=True,
        )
    return GraphError(
        2,
        "An unexpected error has occurred. Please retry your request later.",
        http_status=500,
        is_transient=True,
    )


# --- Custom Audiences (docs/meta-facts.md §7) ---------------------------------


def audience_terms_not_accepted() -> GraphError:
    """The ad account's Custom Audience terms are not accepted (§7.1)."""
    return GraphError(
        200,
        numbered(200, "Permissions error"),
        subcode=1870090,
        user_title="Custom Audience Terms Not Accepted",
        user_msg="You need to accept the Custom Audience Terms before you can "
        "create or edit an audience. Accept them in Audiences in Ads Manager: "
        "https://www.facebook.com/ads/manage/customaudiences/tos/",
    )


def audience_flagged() -> GraphError:
    """Membership edits of an audience flagged 471 (§7.3), as Meta's
    Custom Audience Users reference shows it."""
    return GraphError(
        100,
        "Invalid parameter",
        subcode=1713230,
        user_title="Audience Upload Blocked",
        user_msg="Before updating user memberships, you must resolve integrity "
        "restrictions on this Data File Custom Audience. Go to Audience Manager "
        "to appeal the restrictions or create a new audience with updated data",
    )


def lookalike_seed_flagged() -> GraphError:
    """A lookalike asked from a flagged (471) seed audience (§7.6)."""
    return GraphError(
        100,
        "Invalid parameter",
        subcode=1713232,
        user_title="Lookalike Audience Creation Blocked",
        user_msg="The source audience has integrity restrictions. Resolve them in "
        "Audience Manager or choose another source audience.",
    )


def audience_update_failed(
    text: str, subcode: int | None = None, title: str | None = None
) -> GraphError:
    """Code 2650 "Failed to update the custom audience" (§7.3, §7.4)."""
    return GraphError(
        2650,
        numbered(2650, f"Failed to update the custom audience: {text}"),
        subcode=subcode,
        user_title=title,
        user_msg=text if title else None,
    )


def audience_create_failed(text: str, subcode: int | None = None) -> GraphError:
    """Code 2654 "Failed to create custom audience" (§7.2, §7.6)."""
    return GraphError(
        2654,
        numbered(2654, f"Failed to create custom audience: {text}"),
        subcode=subcode,
    )
