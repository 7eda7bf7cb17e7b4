"""Token endpoints: ``debug_token``, ``oauth/access_token``, ``/me`` (user), app.

Shapes follow docs/meta-facts.md §2.1/§2.2; the Login dialog's code
exchange follows §2.4 (the dialog itself is :mod:`meta_simulator.login_dialog`).
"""

from .. import errors
from ..graph import ROUTES
from ..models import APP, PAGE, SYSTEM_USER, USER
from ..store import APP_NODE, USER_NODE

#: ~60 days, what the long-lived exchange reports in ``expires_in`` (§2.1).
LONG_LIVED_SECONDS = 5183944
#: User-based tokens carry a ~90-day data-access window (§2.2 [R]).
DATA_ACCESS_SECONDS = 90 * 86400
#: Scopes that debug_token reports with the Page/IG ids they cover.
_TARGETED_PREFIXES = ("pages_", "leads_", "instagram_")


@ROUTES.path("GET", "debug_token")
def debug_token(call):
    """Inspect ``input_token`` with an app token or any valid token (§2.2)."""
    value = call.param("input_token")
    if not value:
        raise errors.invalid_param("The parameter input_token is required")
    store, sim = call.store, call.sim
    if value == store.app_token:
        return {
            "data": {
                "app_id": sim.app_id,
                "type": APP,
                "application": sim.app_name,
                "is_valid": True,
                "scopes": [],
            }
        }
    token = store.tokens.get(value)
    if token is None:
        return {
            "data": {
                "error": {"code": 190, "message": "Invalid OAuth access token."},
                "is_valid": False,
                "scopes": [],
            }
        }
    scopes = store.scopes_of(token)
    data = {
        "app_id": sim.app_id,
        "type": token.type,
        "application": sim.app_name,
        "data_access_expires_at": token.data_access_expires_at,
        "expires_at": token.expires_at,
        "is_valid": True,
        "issued_at": token.issued_at,
        "scopes": scopes,
        "granular_scopes": _granular(token, scopes),
        "user_id": token.user_id,
    }
    if token.type == PAGE:
        data["profile_id"] = token.page_id
    dead = store.dead_reason(token, sim.clock.now())
    if dead is not None:
        # Meta reports the death inside data instead of failing the call.
        data["is_valid"] = False
        data["error"] = {
            "code": dead.code,
            "message": dead.message,
            "subcode": dead.subcode,
        }
    return {"data": {k: v for k, v in data.items() if v is not None}}


def _granular(token, scopes):
    targets = [token.page_id] if token.type == PAGE else list(token.pages)
    rows = []
    for scope in scopes:
        row = {"scope": scope}
        if scope.startswith(_TARGETED_PREFIXES) and targets:
            row["target_ids"] = targets
        rows.append(row)
    return rows


@ROUTES.path("GET", "oauth", "access_token", auth=False)
@ROUTES.path("POST", "oauth", "access_token", auth=False)
def access_token(call):
    """Code exchange (§2.4), long-lived exchange and app-token grant (§2.1)."""
    sim = call.sim
    client_id = call.param("client_id")
    if not client_id:
        raise errors.GraphError(101, "Missing client_id parameter.")
    if client_id != sim.app_id:
        raise errors.GraphError(
            101, "Error validating application. Invalid application ID."
        )
    if call.param("client_secret") != sim.app_secret:
        raise errors.GraphError(1, "Error validating client secret.")
    grant = call.param("grant_type")
    if grant == "client_credentials":
        return {"access_token": call.store.app_token, "token_type": "bearer"}
    if grant in (None, "", "authorization_code") and call.param("code") is not None:
        return _exchange_code(call)
    if grant != "fb_exchange_token":
        raise errors.invalid_param(f"Unsupported grant_type: {grant}")
    value = call.param("fb_exchange_token")
    if not value:
        raise errors.invalid_param("Missing fb_exchange_token")
    old = call.store.check_token(value, sim.clock.now())
    if old.type not in (USER, SYSTEM_USER):
        raise errors.invalid_param("fb_exchange_token must be a user access token")
    new = sim._new_token(
        USER,
        scopes=call.store.scopes_of(old),
        pages=list(old.pages),
        user_id=old.user_id,
        expires_at=int(sim.clock.now()) + LONG_LIVED_SECONDS,
        tasks=old.tasks,
    )
    return {
        "access_token": new,
        "token_type": "bearer",
        "expires_in": LONG_LIVED_SECONDS,
    }


def _exchange_code(call):
    """The Login dialog's ``code`` for a short-lived user token (§2.4).

    The code is single use (100/36009), lives 10 minutes (100/36007) and is
    bound to the dialog's exact ``redirect_uri`` (191 when missing, 100/36008
    when different) and to the app; a string that was never a code is
    "Invalid verification code format." (100, no subcode).  A refused
    exchange does not use the code up.
    """
    sim, store = call.sim, call.store
    redirect_uri = call.param("redirect_uri")
    if not redirect_uri:
        raise errors.GraphError(
            191,
            "Missing redirect_uri parameter.",
            headers=_challenge("invalid_request", "Missing redirect_uri parameter."),
        )
    code = store.auth_codes.get(call.param("code") or "")
    if code is None or code.app_id != sim.app_id:
        raise _code_error("Invalid verification code format.")
    if code.used:
        raise _code_error("This authorization code has been used.", 36009)
    if sim.clock.now() >= code.expires_at:
        raise _code_error("This authorization code has expired.", 36007)
    if redirect_uri != code.redirect_uri:
        raise _code_error(
            "Error validating verification code. Please make sure your "
            "redirect_uri is identical to the one you used in the OAuth dialog "
            "request",
            36008,
        )
    code.used = True
    person = store.users[code.person_id]
    now = int(sim.clock.now())
    token = sim._new_token(
        USER,
        scopes=list(code.scopes),
        pages=list(code.pages),
        user_id=person.id,
        expires_at=now + sim.login_token_seconds,
        tasks=tuple(person.tasks),
    )
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": sim.login_token_seconds,
    }


def _challenge(kind: str, message: str) -> dict:
    """The ``WWW-Authenticate`` header Meta sends with OAuth errors."""
    return {"WWW-Authenticate": f'OAuth "Facebook Platform" "{kind}" "{message}"'}


def _code_error(message: str, subcode: int | None = None) -> errors.GraphError:
    return errors.GraphError(
        100, message, subcode=subcode, headers=_challenge("invalid_code", message)
    )


@ROUTES.node("GET", USER_NODE)
def user_node(call):
    user = call.node
    return call.render({"id": user.id, "name": user.name}, ("name", "id"), USER_NODE)


@ROUTES.node("GET", APP_NODE)
def app_node(call):
    sim = call.sim
    full = {
        "id": sim.app_id,
        "name": sim.app_name,
        "category": "Business",
        "link": f"https://www.facebook.com/games/?app_id={sim.app_id}",
    }
    return call.render(full, ("category", "link", "name", "id"), APP_NODE)
