"""Custom Audiences: customer-file audiences, their people, replace
sessions and lookalikes (docs/meta-facts.md §7).

https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences,
https://developers.facebook.com/docs/marketing-api/reference/custom-audience/,
https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users/,
https://developers.facebook.com/docs/marketing-api/reference/custom-audience/usersreplace/,
https://developers.facebook.com/docs/marketing-api/reference/ad-account/customaudiences/,
https://developers.facebook.com/docs/marketing-api/audiences/guides/lookalike-audiences,
https://developers.facebook.com/docs/marketing-api/audiences/reference/custom-audience-terms-of-service/
"""

import re

from .. import errors
from ..audiences import (
    MIN_SEED_SIZE,
    MULTI_HASHES,
    MULTI_KEYS,
    PLAIN_KEYS,
    SINGLE_HASHES,
    SINGLE_KEYS,
    MemberSet,
    delivery_status,
    finish_replace,
    link_extern_ids,
    linked_pairs,
    operation_status,
    refresh,
    size,
    size_bounds,
)
from ..graph import ROUTES
from ..models import AudienceSession
from ..paging import paginate
from ..store import AD_ACCOUNT_NODE, AUDIENCE_NODE

AUDIENCE_DEFAULT_FIELDS = ("id",)
_READ_SCOPES = ("ads_management", "ads_read")
_BUCKET = "custom_audience"

CUSTOMER_FILE_SOURCES = (
    "USER_PROVIDED_ONLY",
    "PARTNER_PROVIDED_ONLY",
    "BOTH_USER_AND_PARTNER_PROVIDED",
)
#: Rows one ``/users`` or ``/usersreplace`` request may carry.
MAX_ROWS = 10000
#: Customer-file audiences and lookalikes an ad account may hold (§7.2).
MAX_CUSTOM_AUDIENCES = 500
MAX_LOOKALIKES = 500
#: ``invalid_entry_samples`` keeps at most this many values [U].
MAX_SAMPLES = 100
#: Lookalike ``type`` shortcuts and the ratio they stand for (§7.6).
LOOKALIKE_TYPES = {"similarity": 0.01, "reach": 0.05}

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


# --- rendering -----------------------------------------------------------------


def audience_full(call, audience) -> dict:
    store = call.store
    count = size(audience, store)
    lower, upper = size_bounds(count)
    lookalikes = [
        a.id
        for a in store.audiences.values()
        if a.origin_audience_id == audience.id and a.subtype == "LOOKALIKE"
    ]
    spec = None
    if audience.lookalike_spec is not None:
        spec = dict(audience.lookalike_spec)
        origin = store.audiences.get(audience.origin_audience_id or "")
        spec["origin"] = [
            {
                "id": audience.origin_audience_id,
                "name": origin.name if origin else None,
                "type": "custom_audience",
            }
        ]
    if audience.subtype == "LOOKALIKE":
        data_source = {"type": "LOOKALIKE", "sub_type": "ANYTHING"}
    elif audience.schema_type:
        data_source = {"type": "FILE_IMPORTED", "sub_type": audience.schema_type}
    else:
        data_source = {"type": "UNKNOWN", "sub_type": "ANYTHING"}
    return {
        "id": audience.id,
        "account_id": audience.ad_account_id.removeprefix("act_"),
        "name": audience.name,
        "description": audience.description,
        "subtype": audience.subtype,
        "customer_file_source": audience.customer_file_source,
        "approximate_count_lower_bound": lower,
        "approximate_count_upper_bound": upper,
        "operation_status": operation_status(audience),
        "delivery_status": delivery_status(audience, count),
        "data_source": data_source,
        "time_created": audience.time_created,
        "time_updated": audience.time_updated,
        "lookalike_spec": spec,
        "lookalike_audience_ids": lookalikes or None,
    }


def _render(call):
    return lambda audience: call.render(
        audience_full(call, audience), AUDIENCE_DEFAULT_FIELDS, AUDIENCE_NODE
    )


# --- checks --------------------------------------------------------------------


def _account_of(call, audience):
    return call.store.ad_accounts[audience.ad_account_id]


def _require_terms(account) -> None:
    if not account.custom_audience_tos:
        raise errors.audience_terms_not_accepted()


def _now(call) -> float:
    return call.sim.clock.now()


def _parse_payload(call):
    """``payload`` → ``(schema type, keys, rows)``; shape errors are 100."""
    payload = call.json_param("payload")
    if payload is None:
        raise errors.invalid_param("The parameter payload is required")
    if not isinstance(payload, dict):
        raise errors.invalid_param("Param payload must be a JSON object")
    schema, data = payload.get("schema"), payload.get("data")
    if isinstance(schema, str):
        key = SINGLE_KEYS.get(schema)
        if key is None:
            raise errors.invalid_param(f"Invalid schema type: {schema}")
        schema_type, keys = SINGLE_HASHES, (key,)
    elif isinstance(schema, list) and schema:
        for key in schema:
            if key not in MULTI_KEYS:
                raise errors.invalid_param(f"Invalid schema key in multi-key: {key}")
        if len(set(schema)) != len(schema):
            raise errors.invalid_param("Each schema key may appear only once")
        schema_type, keys = MULTI_HASHES, tuple(schema)
    else:
        raise errors.invalid_param("Param payload[schema] is required")
    if not isinstance(data, list):
        raise errors.invalid_param("Param payload[data] must be an array")
    if len(data) > MAX_ROWS:
        raise errors.invalid_param(
            f"Too many entries in payload[data]: at most {MAX_ROWS} per request"
        )
    rows = []
    for row in data:
        if schema_type == SINGLE_HASHES and not isinstance(row, list):
            row = [row]
        if not isinstance(row, list) or len(row) != len(keys):
            raise errors.invalid_param(
                "Each row of payload[data] must have one value per schema key"
            )
        rows.append(row)
    return schema_type, keys, rows


def _check_rows(keys, rows):
    """Valid rows as people, the invalid count and samples (§7.3, §7.5)."""
    people, invalid, samples = [], 0, {}
    for row in rows:
        person, bad = {}, None
        for key, value in zip(keys, row, strict=True):
            text = "" if value is None else str(value)
            if not text:
                continue
            if key not in PLAIN_KEYS and not _SHA256.match(text):
                bad = (text, key)
                break
            person[key] = text
        if bad is not None or not person:
            invalid += 1
            if bad is not None and len(samples) < MAX_SAMPLES:
                samples[bad[0]] = bad[1]
            continue
        people.append(person)
    return people, invalid, samples


def _check_data_source(audience, schema_type) -> None:
    """The first upload fixes the audience's schema type (§7.3)."""
    source = None
    if audience.subtype == "LOOKALIKE":
        source = "LOOKALIKE"
    elif audience.schema_type and audience.schema_type != schema_type:
        source = f"FILE_IMPORTED.{audience.schema_type}"
    if source:
        raise errors.audience_update_failed(
            f"This audience was created from data source {source}, which does "
            f"not support data source FILE_IMPORTED.{schema_type}"
        )


def _parse_session(call, required: bool):
    raw = call.json_param("session")
    if raw is None:
        if required:
            raise errors.invalid_param("The parameter session is required")
        return None
    if not isinstance(raw, dict):
        raise errors.invalid_param("Param session must be a JSON object")

    def number(name, minimum):
        value = raw.get(name)
        if isinstance(value, bool) or value is None:
            raise errors.invalid_param(f"Param session[{name}] is required")
        try:
            value = int(value)
        except (TypeError, ValueError) as exc:
            raise errors.invalid_param(
                f"Param session[{name}] must be an integer"
            ) from exc
        if value < minimum:
            raise errors.invalid_param(f"Param session[{name}] must be >= {minimum}")
        return value

    session = {
        "session_id": number("session_id", 1),
        "batch_seq": number("batch_seq", 1),
    }
    flag = raw.get("last_batch_flag")
    if not isinstance(flag, bool):
        raise errors.invalid_param("Param session[last_batch_flag] is required")
    session["last_batch_flag"] = flag
    if raw.get("estimated_num_total") is not None:
        session["estimated_num_total"] = number("estimated_num_total", 0)
    return session


def _session_closed(session) -> errors.GraphError:
    if session.ended_by == "timeout":
        return errors.audience_update_failed(
            "The upload session timed out: a replace session lasts 90 minutes",
            1870158,
            "Session Timed Out",
        )
    return errors.audience_update_failed(
        "The upload session has already finished", 1870159, "Session Finished"
    )


def _update_in_progress() -> errors.GraphError:
    return errors.audience_update_failed(
        "Another update of this audience is in progress; wait until it finishes",
        1870145,
        "Audience Update In Progress",
    )


def _prepare_edit(call):
    """Checks shared by every membership edit; ``(audience, account,
    schema type, keys, rows)``."""
    call.require_scope("ads_management")
    audience = call.node
    account = _account_of(call, audience)
    _require_terms(account)
    if audience.flag_code == 471:
        raise errors.audience_flagged()
    schema_type, keys, rows = _parse_payload(call)
    _check_data_source(audience, schema_type)
    refresh(audience, _now(call))
    return audience, account, schema_type, keys, rows


def _answer(audience, session, samples) -> dict:
    return {
        "audience_id": audience.id,
        "session_id": session.id,
        "num_received": session.num_received,
        "num_invalid_entries": session.num_invalid_entries,
        "invalid_entry_samples": samples,
    }


# --- an ad account's audiences -------------------------------------------------


@ROUTES.node("GET", AD_ACCOUNT_NODE, "customaudiences", bucket=_BUCKET)
def list_audiences(call):
    """The account's audiences, newest first, cursor paged."""
    call.require_scope(*_READ_SCOPES)
    now = _now(call)
    items = sorted(
        (a for a in call.store.audiences.values() if a.ad_account_id == call.node.id),
        key=lambda a: (-a.time_created, -int(a.id)),
    )
    for audience in items:
        refresh(audience, now)
    keys = [(-a.time_created, -int(a.id)) for a in items]
    return paginate(call, keys, items, _render(call))


@ROUTES.node("POST", AD_ACCOUNT_NODE, "customaudiences", bucket=_BUCKET)
def create_audience(call):
    """A customer-file audience (``subtype=CUSTOM``) or a lookalike."""
    call.require_scope("ads_management")
    account = call.node
    _require_terms(account)
    name = call.param("name")
    if not name:
        raise errors.invalid_param("The parameter name is required")
    subtype = call.param("subtype") or "CUSTOM"
    if subtype == "LOOKALIKE":
        return _create_lookalike(call, account, name)
    if subtype != "CUSTOM":
        # Website, engagement … audiences are not simulated.
        raise errors.invalid_param(f"Param subtype {subtype} is not supported here")
    source = call.param("customer_file_source")
    if not source:
        raise errors.invalid_param("The parameter customer_file_source is required")
    if source not in CUSTOMER_FILE_SOURCES:
        raise errors.invalid_param(
            "Param customer_file_source must be one of "
            + ", ".join(CUSTOMER_FILE_SOURCES)
        )
    owned = [a for a in call.store.audiences.values() if a.ad_account_id == account.id]
    if sum(a.subtype == "CUSTOM" for a in owned) >= MAX_CUSTOM_AUDIENCES:
        raise errors.audience_create_failed(
            f"This ad account has reached its limit of {MAX_CUSTOM_AUDIENCES} "
            "customer file custom audiences"
        )
    audience = call.sim._new_audience(
        account.id,
        name,
        description=call.param("description"),
        customer_file_source=source,
    )
    return {"id": audience.id}


def _ratio(value, name: str, low: int, high: int) -> float:
    """A ratio in hundredths between ``low`` and ``high`` percent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.invalid_param(f"lookalike_spec {name} must be a number")
    percent = value * 100
    if abs(percent - round(percent)) > 1e-6 or not low <= round(percent) <= high:
        raise errors.invalid_param(
            f"lookalike_spec {name} must be between {low / 100:.2f} and "
            f"{high / 100:.2f} in steps of 0.01"
        )
    return round(percent) / 100


def _lookalike_spec(raw) -> dict:
    if not isinstance(raw, dict):
        raise errors.invalid_param("The parameter lookalike_spec is required")
    spec = {}
    kind = raw.get("type")
    if raw.get("ratio") is not None:
        spec["ratio"] = _ratio(raw["ratio"], "ratio", 1, 20)
        spec["type"] = "custom_ratio"
    elif kind in LOOKALIKE_TYPES:
        spec["ratio"] = LOOKALIKE_TYPES[kind]
        spec["type"] = kind
    else:
        raise errors.invalid_param(
            "lookalike_spec needs a ratio (0.01 to 0.20) or a type "
            "(similarity or reach)"
        )
    start = raw.get("starting_ratio", 0)
    spec["starting_ratio"] = _ratio(start, "starting_ratio", 0, 19) if start else 0
    if spec["starting_ratio"] >= spec["ratio"]:
        raise errors.invalid_param(
            "lookalike_spec starting_ratio must be smaller than ratio"
        )
    country = raw.get("country")
    location = raw.get("location_spec")
    if country is not None:
        if not isinstance(country, str) or not _COUNTRY.match(country):
            raise errors.invalid_param(f"Invalid country code: {country}")
        spec["country"] = country
    elif isinstance(location, dict):
        geo = location.get("geo_locations")
        countries = geo.get("countries") if isinstance(geo, dict) else None
        if not isinstance(countries, list) or not countries:
            raise errors.invalid_param(
                "lookalike_spec location_spec needs geo_locations.countries"
            )
        for code in countries:
            if not isinstance(code, str) or not _COUNTRY.match(code):
                raise errors.invalid_param(f"Invalid country code: {code}")
        spec["location_spec"] = {"geo_locations": {"countries": list(countries)}}
    else:
        raise errors.invalid_param("lookalike_spec needs a country or location_spec")
    return spec


def _create_lookalike(call, account, name):
    store = call.store
    origin_id = call.param("origin_audience_id")
    if not origin_id:
        raise errors.invalid_param("The parameter origin_audience_id is required")
    seed = store.audiences.get(str(origin_id))
    if seed is None or not store.can_access(call.token, AUDIENCE_NODE, seed):
        raise errors.invalid_param(f"Invalid origin_audience_id: {origin_id}")
    if seed.subtype == "LOOKALIKE":
        raise errors.invalid_param(
            "A lookalike audience can't be the source of another lookalike"
        )
    spec = _lookalike_spec(call.json_param("lookalike_spec"))
    if seed.flag_code == 471:
        raise errors.lookalike_seed_flagged()
    refresh(seed, _now(call))
    if len(seed.members) < MIN_SEED_SIZE:
        raise errors.audience_create_failed(
            "Source audience is too small: a lookalike needs a source audience "
            f"of at least {MIN_SEED_SIZE} people"
        )
    owned = [a for a in store.audiences.values() if a.ad_account_id == account.id]
    if sum(a.subtype == "LOOKALIKE" for a in owned) >= MAX_LOOKALIKES:
        raise errors.audience_create_failed(
            f"This ad account has reached its limit of {MAX_LOOKALIKES} lookalike "
            "audiences"
        )
    audience = call.sim._new_audience(
        account.id,
        name,
        subtype="LOOKALIKE",
        description=call.param("description"),
        origin_audience_id=seed.id,
        lookalike_spec=spec,
    )
    return {"id": audience.id}


@ROUTES.node("DELETE", AD_ACCOUNT_NODE, "usersofanyaudience", bucket=_BUCKET)
def remove_from_every_audience(call):
    """Remove people from every audience of the account (replaces running
    included; flagged audiences too: it is a removal) (§7.3)."""
    call.require_scope("ads_management")
    account = call.node
    _require_terms(account)
    _schema_type, keys, rows = _parse_payload(call)
    people, _invalid, _samples = _check_rows(keys, rows)
    now = _now(call)
    for audience in list(call.store.audiences.values()):
        if audience.ad_account_id != account.id or audience.subtype != "CUSTOM":
            continue
        refresh(audience, now)
        session = audience.sessions.get(audience.replace_session)
        targets = [audience.members] + ([session.staged] if session else [])
        removed = 0
        for person in people:
            linked = linked_pairs(account, person)
            for target in targets:
                removed += target.remove(person, linked)
        if removed:
            audience.time_updated = int(now)
    return {"success": True}


# --- one audience --------------------------------------------------------------


@ROUTES.node("GET", AUDIENCE_NODE, bucket=_BUCKET)
def audience_node(call):
    call.require_scope(*_READ_SCOPES)
    refresh(call.node, _now(call))
    return _render(call)(call.node)


@ROUTES.node("DELETE", AUDIENCE_NODE, bucket=_BUCKET)
def audience_delete(call):
    call.require_scope("ads_management")
    call.sim._delete_audience(call.node)
    return {"success": True}


def _users_session(call, audience, kind, keys):
    """The ``/users`` session of this batch (one-off when none is given)."""
    params = _parse_session(call, required=False)
    if params is None:
        number = call.sim.ids.rng("audience:session").randrange(10**15, 10**16)
        return AudienceSession(number, kind, _now(call), schema=keys), True
    session = audience.sessions.get(params["session_id"])
    if session is not None:
        if session.ended_by:
            raise _session_closed(session)
        if session.kind != kind:
            raise errors.invalid_param(
                "This session_id belongs to another kind of upload session"
            )
        if session.schema != keys:
            raise errors.audience_update_failed(
                "Every batch of a session must use the same schema"
            )
    else:
        session = AudienceSession(params["session_id"], kind, _now(call), schema=keys)
        audience.sessions[session.id] = session
    session.last_batch_seq = max(session.last_batch_seq, params["batch_seq"])
    return session, params["last_batch_flag"]


def _users_edit(call, kind: str):
    audience, account, schema_type, keys, rows = _prepare_edit(call)
    if audience.replace_session is not None:
        raise _update_in_progress()
    session, last = _users_session(call, audience, kind, keys)
    people, invalid, samples = _check_rows(keys, rows)
    if kind == "add":
        link_extern_ids(account, people)
        for person in people:
            audience.members.add(person)
    else:
        for person in people:
            audience.members.remove(person, linked_pairs(account, person))
    audience.schema_type = audience.schema_type or schema_type
    audience.time_updated = int(_now(call))
    session.num_received += len(rows)
    session.num_invalid_entries += invalid
    if last:
        session.ended_by, session.ended_at = "last_batch", _now(call)
    return _answer(audience, session, samples)


@ROUTES.node("POST", AUDIENCE_NODE, "users", bucket=_BUCKET)
def users_add(call):
    """Add people (at most 10,000 rows a request) (§7.3)."""
    return _users_edit(call, "add")


@ROUTES.node("DELETE", AUDIENCE_NODE, "users", bucket=_BUCKET)
def users_remove(call):
    """Remove people; EXTERN_ID alone finds them (§7.3)."""
    return _users_edit(call, "remove")


@ROUTES.node("POST", AUDIENCE_NODE, "usersreplace", bucket=_BUCKET)
def users_replace(call):
    """Replace every person of the audience by a session's uploads (§7.4).

    Batch 1 opens the session; the people received replace the audience's
    when ``last_batch_flag`` is true or 90 minutes after batch 1.
    """
    audience, account, schema_type, keys, rows = _prepare_edit(call)
    params = _parse_session(call, required=True)
    now = _now(call)
    session = audience.sessions.get(params["session_id"])
    if session is not None:
        if session.kind != "replace":
            raise errors.invalid_param(
                "This session_id belongs to another kind of upload session"
            )
        if session.ended_by:
            raise _session_closed(session)
        if session.schema != keys:
            raise errors.audience_update_failed(
                "Every batch of a replace session must use the same schema"
            )
    else:
        if params["batch_seq"] != 1:
            raise errors.audience_update_failed(
                "The first batch (batch_seq 1) of this replace session was not "
                "received",
                1870147,
                "Missing First Batch",
            )
        if audience.replace_session is not None:
            raise _update_in_progress()
        session = AudienceSession(
            params["session_id"], "replace", now, schema=keys, staged=MemberSet()
        )
        audience.sessions[session.id] = session
        audience.replace_session = session.id
    session.last_batch_seq = max(session.last_batch_seq, params["batch_seq"])
    people, invalid, samples = _check_rows(keys, rows)
    link_extern_ids(account, people)
    for person in people:
        session.staged.add(person)
    session.num_received += len(rows)
    session.num_invalid_entries += invalid
    audience.schema_type = audience.schema_type or schema_type
    if params["last_batch_flag"]:
        finish_replace(audience, session, now, "last_batch")
    return _answer(audience, session, samples)
