"""Custom Audiences operations (docs/meta-facts.md §7), on top of
:class:`GraphClient`: each function knows one endpoint and returns plain
values; :func:`explain` names what went wrong in a way an administrator can
act on.

https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
"""

import json
from dataclasses import dataclass, field

from .audience import users_params
from .errors import GraphError, RateLimitError, UnknownGraphError
from .ids import node_id

#: What the customer data is (§7.2): collected by us from our customers.
CUSTOMER_FILE_SOURCE = "USER_PROVIDED_ONLY"
_AUDIENCE_FIELDS = (
    "id,name,subtype,approximate_count_lower_bound,approximate_count_upper_bound,"
    "operation_status,delivery_status,time_updated"
)


@dataclass(frozen=True)
class AudienceInfo:
    audience_id: str
    name: str = ""
    subtype: str = ""
    size_lower: int | None = None
    size_upper: int | None = None
    operation_code: int | None = None
    delivery_code: int | None = None
    operation_description: str = ""


@dataclass(frozen=True)
class UploadResult:
    received: int = 0
    invalid: int = 0
    invalid_samples: dict = field(default_factory=dict, compare=False)


def _account(ad_account_id):
    account = str(ad_account_id)
    return node_id(
        account if account.startswith("act_") else f"act_{account}", "ad account id"
    )


def terms_accepted(client, ad_account_id):
    """Has the ad account accepted the Custom Audience terms (§7.1)?"""
    answer = client.get(_account(ad_account_id), {"fields": "tos_accepted"})
    terms = answer.get("tos_accepted") if isinstance(answer, dict) else None
    return bool(isinstance(terms, dict) and terms.get("custom_audience_tos"))


def create_audience(client, ad_account_id, name, description=""):
    """A customer-file audience (``subtype=CUSTOM``); its id."""
    answer = client.post(
        f"{_account(ad_account_id)}/customaudiences",
        data={
            "name": name,
            "subtype": "CUSTOM",
            "description": description or "",
            "customer_file_source": CUSTOMER_FILE_SOURCE,
        },
    )
    return _created_id(answer)


def create_lookalike(client, ad_account_id, name, origin_audience_id, countries, ratio):
    """A lookalike of ``origin_audience_id`` in ``countries`` (ISO codes) at
    ``ratio`` (0.01–0.20, §7.7); its id."""
    countries = [str(c).upper() for c in countries]
    spec = {"ratio": round(float(ratio), 2)}
    if len(countries) == 1:
        spec["country"] = countries[0]
    else:
        spec["location_spec"] = {"geo_locations": {"countries": countries}}
    answer = client.post(
        f"{_account(ad_account_id)}/customaudiences",
        data={
            "name": name,
            "subtype": "LOOKALIKE",
            "origin_audience_id": node_id(origin_audience_id, "audience id"),
            "lookalike_spec": json.dumps(spec),
        },
    )
    return _created_id(answer)


def get_audience(client, audience_id):
    """Size bounds and statuses of an audience (§7.6)."""
    answer = client.get(
        node_id(audience_id, "audience id"), {"fields": _AUDIENCE_FIELDS}
    )
    if not isinstance(answer, dict) or not answer.get("id"):
        raise UnknownGraphError("Meta answered an audience without an id")
    operation = answer.get("operation_status") or {}
    delivery = answer.get("delivery_status") or {}
    return AudienceInfo(
        audience_id=str(answer["id"]),
        name=str(answer.get("name") or ""),
        subtype=str(answer.get("subtype") or ""),
        size_lower=_int(answer.get("approximate_count_lower_bound")),
        size_upper=_int(answer.get("approximate_count_upper_bound")),
        operation_code=_int(operation.get("code")),
        delivery_code=_int(delivery.get("code")),
        operation_description=str(operation.get("description") or ""),
    )


def delete_audience(client, audience_id):
    client.delete(node_id(audience_id, "audience id"))


def add_users(client, audience_id, schema, rows, **session):
    """``POST /{audience}/users``: one batch of at most 10,000 rows. Adding
    the same rows again changes no membership: safe to retry."""
    return _upload(client, "POST", "users", audience_id, schema, rows, session)


def remove_users(client, audience_id, schema, rows, **session):
    """``DELETE /{audience}/users``: the rows leave the audience."""
    return _upload(client, "DELETE", "users", audience_id, schema, rows, session)


def replace_users(client, audience_id, schema, rows, **session):
    """``POST /{audience}/usersreplace``: one batch of a replace session
    (batch 1 starts it; the last batch flag or 90 minutes ends it, §7.4)."""
    return _upload(client, "POST", "usersreplace", audience_id, schema, rows, session)


def _upload(client, method, edge, audience_id, schema, rows, session):
    path = f"{node_id(audience_id, 'audience id')}/{edge}"
    # a JSON body (Graph reads its keys as the call's parameters): a batch
    # is a megabyte, which form-encoding would escape character by character
    # (docs/meta-facts.md §1.1)
    params = users_params(schema, rows, **session)
    if method == "DELETE":
        answer = client.delete(path, json_body=params)
    else:
        answer = client.post(path, json_body=params, idempotent=edge == "users")
    return _result(answer)


def _result(answer):
    if not isinstance(answer, dict):
        raise UnknownGraphError("Meta answered an upload without counts")
    samples = answer.get("invalid_entry_samples")
    return UploadResult(
        received=_int(answer.get("num_received")) or 0,
        invalid=_int(answer.get("num_invalid_entries")) or 0,
        invalid_samples=samples if isinstance(samples, dict) else {},
    )


def _created_id(answer):
    if not isinstance(answer, dict) or not answer.get("id"):
        raise UnknownGraphError("Meta answered without the new audience's id")
    return str(answer["id"])


def _int(value):
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


#: (code, subcode) -> what it means, for the administrator (§7.1–§7.4).
_EXPLAINED = {
    (200, 1870090): "terms_not_accepted",
    (2663, None): "terms_not_accepted",
    (100, 1713230): "flagged",
    (100, 1713232): "flagged_seed",
    (2650, 1870145): "replace_in_progress",
    (2650, 1870158): "replace_timed_out",
    (2650, 1870147): "replace_missing_first_batch",
    (2650, 1870159): "replace_finished",
    (2650, 1870148): "replace_partial_failure",
    (2650, 1870144): "audience_too_large",
}


def explain(error):
    """A word for what went wrong with an audience call:

    ``terms_not_accepted`` (accept the Custom Audience terms of the ad
    account), ``flagged`` / ``flagged_seed`` (Meta blocked the audience,
    operation status 471), ``schema_type_changed`` (an audience keeps the
    identifiers it was created with), ``replace_*`` (a replace session's
    state), ``audience_too_large``, ``rate_limited``, else ``other``."""
    if isinstance(error, RateLimitError):
        return "rate_limited"
    if not isinstance(error, GraphError):
        return "other"
    known = _EXPLAINED.get((error.code, error.subcode)) or _EXPLAINED.get(
        (error.code, None)
    )
    if known:
        return known
    if error.code == 2650 and "FILE_IMPORTED" in (error.message or ""):
        return "schema_type_changed"
    return "other"
