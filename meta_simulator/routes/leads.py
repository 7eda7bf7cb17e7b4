"""Lead Ads: forms, ``/leads`` with filtering and paging, leads, test leads.

docs/meta-facts.md §5.1 (lead fields), §5.2 (forms, bulk read, paging),
§5.3 (questions), §5.4 (90-day retention, test leads).
"""

import copy
import operator
import time

from .. import errors
from ..fields import Ref
from ..graph import ROUTES
from ..paging import paginate
from ..store import FORM_NODE, LEAD_NODE, PAGE_NODE

LEAD_DEFAULT_FIELDS = ("created_time", "id", "field_data")
FORM_DEFAULT_FIELDS = ("id", "locale", "name", "status")
_FORM_SCOPES = ("pages_manage_ads", "leads_retrieval")

#: ``filtering`` operators on ``time_created`` (§5.2).
FILTER_OPERATORS = {
    "GREATER_THAN": operator.gt,
    "GREATER_THAN_OR_EQUAL": operator.ge,
    "LESS_THAN": operator.lt,
}


def iso_time(timestamp: float) -> str:
    """Meta's timestamp format: ``2026-10-01T12:00:00+0000`` (§5.1)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(int(timestamp)))


def lead_full(lead) -> dict:
    """All Graph fields of a lead; organic leads have no ad fields (§5.1)."""
    return {
        "id": lead.id,
        "created_time": iso_time(lead.created_time),
        # copies of the stored rows, verbatim: a test may store a broken row
        # to play a malformed answer from Meta
        "field_data": [copy.deepcopy(row) for row in lead.field_data],
        "form_id": lead.form_id,
        "ad_id": lead.ad_id,
        "ad_name": lead.ad_name,
        "adset_id": lead.adset_id,
        "adset_name": lead.adset_name,
        "campaign_id": lead.campaign_id,
        "campaign_name": lead.campaign_name,
        "platform": lead.platform,
        "is_organic": lead.is_organic,
        "custom_disclaimer_responses": lead.custom_disclaimer_responses,
        "partner_name": lead.partner_name,
        "retailer_item_id": lead.retailer_item_id,
    }


def form_full(store, form, now: float) -> dict:
    leads = store.form_leads[form.id].leads
    live = sum(1 for lead in leads if store.lead_visible(lead, now))
    page = store.pages[form.page_id]
    return {
        "id": form.id,
        "name": form.name,
        "status": form.status,
        "locale": form.locale,
        "questions": [_question(q) for q in form.questions],
        "created_time": iso_time(form.created_time),
        "leads_count": live,
        "expired_leads_count": len(leads) - live,
        "page": Ref(PAGE_NODE, {"id": page.id, "name": page.name}),
        "page_id": page.id,
        "privacy_policy_url": form.privacy_policy_url,
    }


def _question(question: dict) -> dict:
    out = {k: question[k] for k in ("key", "label", "type", "id") if k in question}
    if question.get("options"):
        out["options"] = [dict(option) for option in question["options"]]
    return out


# --- forms -------------------------------------------------------------------


@ROUTES.node("GET", PAGE_NODE, "leadgen_forms")
def leadgen_forms(call):
    """Forms of a Page, newest first (§5.2)."""
    call.require_scope(*_FORM_SCOPES)
    store, now = call.store, call.sim.clock.now()
    forms = sorted(
        (store.forms[f] for f in store.page_forms[call.node.id]),
        key=lambda form: (-form.created_time, -int(form.id)),
    )
    keys = [(-form.created_time, -int(form.id)) for form in forms]
    return paginate(
        call,
        keys,
        forms,
        lambda form: call.render(
            form_full(store, form, now), FORM_DEFAULT_FIELDS, FORM_NODE
        ),
    )


@ROUTES.node("GET", FORM_NODE)
def form_node(call):
    call.require_scope(*_FORM_SCOPES)
    full = form_full(call.store, call.node, call.sim.clock.now())
    return call.render(full, FORM_DEFAULT_FIELDS, FORM_NODE)


# --- leads -------------------------------------------------------------------


def _time_filters(call):
    """``filtering=[{"field":"time_created","operator":…,"value":unix}]`` (§5.2)."""
    raw = call.json_param("filtering", [])
    if not isinstance(raw, list):
        raise errors.invalid_param("Param filtering must be an array")
    checks = []
    for rule in raw:
        if not isinstance(rule, dict):
            raise errors.invalid_param("Each filtering rule must be an object")
        field, op = rule.get("field"), rule.get("operator")
        if field != "time_created" or op not in FILTER_OPERATORS:
            raise errors.invalid_param(
                f"Filtering field {field} with operation {op} is not supported"
            )
        try:
            value = int(rule.get("value"))
        except (TypeError, ValueError) as exc:
            raise errors.invalid_param("Filtering value must be a Unix time") from exc
        checks.append((FILTER_OPERATORS[op], value))
    return checks


@ROUTES.node("GET", FORM_NODE, "leads")
def form_leads(call):
    """Leads of a form, newest first, cursor paged, ``limit`` ≤ 100 (§5.2)."""
    call.require_scope("leads_retrieval")
    store, now = call.store, call.sim.clock.now()
    checks = _time_filters(call)
    index = store.form_leads[call.node.id]

    def accept(lead):
        if not store.lead_visible(lead, now):
            return False  # §5.4: gone after 90 days
        return all(check(lead.created_time, value) for check, value in checks)

    return paginate(
        call,
        index.keys,
        index.leads,
        lambda lead: call.render(lead_full(lead), LEAD_DEFAULT_FIELDS, LEAD_NODE),
        accept=accept,
    )


@ROUTES.node("GET", LEAD_NODE)
def lead_node(call):
    call.require_scope("leads_retrieval")
    if not call.store.lead_visible(call.node, call.sim.clock.now()):
        raise errors.unknown_object("GET", call.node.id)
    return call.render(lead_full(call.node), LEAD_DEFAULT_FIELDS, LEAD_NODE)


@ROUTES.node("DELETE", LEAD_NODE)
def lead_delete(call):
    call.require_scope("leads_retrieval", "pages_manage_ads")
    call.sim._delete_lead(call.node)
    return {"success": True}


# --- test leads (§5.4) -------------------------------------------------------


@ROUTES.node("POST", FORM_NODE, "test_leads")
def test_leads_post(call):
    """One test lead per form; a second one fails until the first is deleted."""
    call.require_scope("pages_manage_ads", "leads_retrieval")
    form = call.node
    if form.test_lead_id and form.test_lead_id in call.store.leads:
        raise errors.invalid_param(
            "A test lead already exists for this form. Delete the existing test "
            "lead before creating a new one."
        )
    field_data = call.json_param("field_data")
    if field_data is not None and not isinstance(field_data, list):
        raise errors.invalid_param("Param field_data must be an array")
    disclaimers = call.json_param("custom_disclaimer_responses")
    lead = call.sim._create_test_lead(form, field_data, disclaimers)
    return {"id": lead.id}


@ROUTES.node("GET", FORM_NODE, "test_leads")
def test_leads_get(call):
    call.require_scope("pages_manage_ads", "leads_retrieval")
    store = call.store
    lead = store.leads.get(call.node.test_lead_id or "")
    leads = [lead] if lead else []
    return paginate(
        call,
        [lead.sort_key for lead in leads],
        leads,
        lambda lead: call.render(lead_full(lead), LEAD_DEFAULT_FIELDS, LEAD_NODE),
    )
