"""The ``/_sim/`` control API: drive a simulator running in another process.

JSON in, JSON out; not part of Meta.  Routes are listed in the package
docstring; each maps one-to-one onto a :class:`MetaSimulator` method.
"""

import json
import logging

from . import payloads

_logger = logging.getLogger("meta_simulator")

ROUTES = {}


def route(method: str, path: str):
    def decorator(func):
        ROUTES[(method, path)] = func
        return func

    return decorator


def handle(sim, method: str, path: str, query: dict, body: bytes):
    """Answer one control request: ``(status, headers, body bytes)``."""
    func = ROUTES.get((method.upper(), path.rstrip("/")))
    if func is None:
        return _answer(404, {"error": f"unknown control route {method} {path}"})
    try:
        data = json.loads(body) if body else {}
        if not isinstance(data, dict):
            raise ValueError("the JSON body must be an object")
        return _answer(200, func(sim, query, data))
    except (KeyError, ValueError, TypeError) as exc:
        return _answer(400, {"error": f"{type(exc).__name__}: {exc}"})
    except Exception as exc:  # keep the server up; report the bug
        _logger.exception("meta_simulator control route %s %s failed", method, path)
        return _answer(500, {"error": f"{type(exc).__name__}: {exc}"})


def _answer(status: int, obj):
    body = json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8")
    return status, {"Content-Type": "application/json; charset=utf-8"}, body


# --- state -------------------------------------------------------------------


@route("GET", "/_sim/health")
def health(sim, query, data):
    return {"ok": True, "base_url": sim.base_url, "seed": sim.seed}


@route("GET", "/_sim/fixture")
def fixture(sim, query, data):
    return sim.fixture or {}


@route("GET", "/_sim/state")
def state(sim, query, data):
    store = sim.store
    with store.lock:
        return {
            "pages": [sim.page_info(page_id) for page_id in store.pages],
            "forms": [
                {
                    "id": form.id,
                    "page_id": form.page_id,
                    "name": form.name,
                    "leads": len(store.form_leads[form.id].leads),
                }
                for form in store.forms.values()
            ],
            "subscriptions": dict(store.subscriptions),
            "callback": sim.callback.__dict__ if sim.callback else None,
            "now": sim.clock.now(),
        }


@route("POST", "/_sim/pages")
def add_page(sim, query, data):
    return sim.add_page(**data)


@route("POST", "/_sim/tokens")
def add_token(sim, query, data):
    return {"access_token": sim.add_user_token(**data)}


@route("POST", "/_sim/tokens/invalidate")
def invalidate(sim, query, data):
    sim.invalidate_token(data["token"], int(data.get("subcode", 460)))
    return {"success": True}


@route("POST", "/_sim/tokens/revoke_scope")
def revoke(sim, query, data):
    sim.revoke_scope(data["token"], data["scope"])
    return {"success": True}


@route("POST", "/_sim/persons")
def add_person(sim, query, data):
    return sim.add_person(**data)


@route("POST", "/_sim/login")
def login(sim, query, data):
    """``{"person_id"}`` logs that person in; ``{"person_id": null}`` logs out."""
    if data.get("person_id"):
        sim.login_as(data["person_id"])
    else:
        sim.logout()
    return {"person_id": sim.logged_in_person}


@route("POST", "/_sim/oauth/redirect_uris")
def redirect_uris(sim, query, data):
    return {"redirect_uris": sim.set_oauth_redirect_uris(data["uris"])}


@route("POST", "/_sim/login_configurations")
def login_configuration(sim, query, data):
    return {"config_id": sim.add_login_configuration(**data)}


@route("POST", "/_sim/forms")
def add_form(sim, query, data):
    return sim.add_form(**data)


@route("POST", "/_sim/leads")
def add_leads(sim, query, data):
    """Create one lead (or ``n``) and, unless ``webhook`` is false, send the
    leadgen webhook(s) to ``callback_url`` or the configured callback."""
    data = dict(data)
    webhook = data.pop("webhook", True)
    callback_url = data.pop("callback_url", None)
    count = data.pop("n", None)
    if count is not None:
        leads = sim.add_leads(data.pop("form_id"), int(count), **data)
    else:
        leads = [sim.add_lead(**data)]
    report = None
    if webhook:
        url = sim._webhook_target(leads[0]["page_id"], "leadgen", callback_url)
        if url is not None:
            events = [payloads.leadgen_change(lead) for lead in leads]
            report = sim.webhooks.deliver_changes(url, events).counts
    return {"leads": leads, "webhook": report}


@route("GET", "/_sim/requests")
def requests_log(sim, query, data):
    since = int(query.get("since", 0))
    records = sim.requests
    return {"count": len(records), "data": [r.to_dict() for r in records[since:]]}


@route("DELETE", "/_sim/requests")
def clear_requests(sim, query, data):
    sim.clear_requests()
    return {"success": True}


# --- faults ------------------------------------------------------------------

_FAULT_KNOBS = (
    "error_rate",
    "hang_rate",
    "hang_seconds",
    "short_pages",
    "short_page_rate",
)


def _faults_state(sim) -> dict:
    state = {knob: getattr(sim.faults, knob) for knob in _FAULT_KNOBS}
    state["throttles"] = [t.__dict__ for t in sim.faults.throttles]
    state["scripted"] = [dict(f.__dict__) for f in sim.faults.scripted]
    return state


@route("GET", "/_sim/faults")
def faults_get(sim, query, data):
    return _faults_state(sim)


@route("POST", "/_sim/faults")
def faults_set(sim, query, data):
    if data.get("reset"):
        sim.faults.reset()
    for knob in _FAULT_KNOBS:
        if knob in data:
            setattr(sim.faults, knob, type(getattr(sim.faults, knob))(data[knob]))
    if data.get("throttle"):
        sim.faults.throttle(**data["throttle"])
    if data.get("fail_calls"):
        sim.faults.fail_calls(**data["fail_calls"])
    return _faults_state(sim)


@route("POST", "/_sim/callbacks/deauthorize")
def callback_deauthorize(sim, query, data):
    result = sim.send_deauthorize(data["callback_url"], data["user_id"])
    return {"status": result.status}


@route("POST", "/_sim/callbacks/data_deletion")
def callback_data_deletion(sim, query, data):
    result = sim.send_data_deletion(data["callback_url"], data["user_id"])
    return {
        "status": result.status,
        "answer": result.answer,
        "valid": result.valid,
        "error": result.error,
    }


@route("POST", "/_sim/deny")
def deny(sim, query, data):
    sim.deny_object(data["object_id"], int(data.get("code", 10)), data.get("subcode"))
    return {"success": True}


@route("POST", "/_sim/allow")
def allow(sim, query, data):
    sim.allow_object(data["object_id"])
    return {"success": True}


@route("GET", "/_sim/clock")
def clock_get(sim, query, data):
    return {"now": sim.clock.now()}


@route("POST", "/_sim/clock")
def clock_advance(sim, query, data):
    return {"now": sim.clock.advance(float(data.get("advance", 0)))}


# --- webhooks ----------------------------------------------------------------


@route("POST", "/_sim/callback")
def callback(sim, query, data):
    config = sim.set_callback(
        data["url"],
        data.get("verify_token"),
        fields=data.get("fields"),
        object=data.get("object", "page"),
        verify=bool(data.get("verify", False)),
    )
    return config.__dict__


@route("GET", "/_sim/subscriptions")
def subscriptions_get(sim, query, data):
    page_id = query["page_id"]
    return {"page_id": page_id, "subscribed_fields": sim.subscriptions(page_id)}


@route("POST", "/_sim/subscriptions")
def subscriptions_set(sim, query, data):
    sim.set_subscription(data["page_id"], data.get("fields") or [])
    return {"page_id": data["page_id"], "subscribed_fields": data.get("fields") or []}


@route("POST", "/_sim/drop_webhooks")
def drop_webhooks(sim, query, data):
    sim.drop_webhooks = bool(data.get("drop", True))
    return {"drop_webhooks": sim.drop_webhooks}


@route("POST", "/_sim/webhooks")
def send_webhooks(sim, query, data):
    """Deliver raw payloads (``payloads`` list or one ``payload``) with the
    ``deliver_changes`` options given in the body."""
    data = dict(data)
    events = data.pop("payloads", None) or [data.pop("payload")]
    report = sim.send_webhooks(events, **data)
    if report is None:
        return {"sent": False}
    return {
        "sent": True,
        "counts": report.counts,
        "disabled": report.disabled,
        "dropped": [update.key for update in report.dropped],
    }


@route("GET", "/_sim/webhooks/log")
def webhooks_log(sim, query, data):
    return {
        "data": [
            {
                "url": d.url,
                "status": d.status,
                "error": d.error,
                "attempt": d.attempt,
                "kind": d.kind,
                "latency": d.latency,
                "signature": d.signature,
                "updates": list(d.updates),
                "body": d.body.decode("ascii"),
            }
            for d in sim.webhooks.log
        ]
    }


@route("POST", "/_sim/handshake")
def handshake(sim, query, data):
    config = sim.callback
    url = data.get("callback_url") or (config.url if config else None)
    token = data.get("verify_token") or (config.verify_token if config else "")
    status, body, challenge = sim.webhooks.handshake(url, token or "")
    return {"status": status, "body": body, "challenge": challenge}
