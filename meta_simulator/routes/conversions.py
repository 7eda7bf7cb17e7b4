"""Conversions API: a dataset receives server events (``/events``);
Conversion Leads events from a CRM are checked as Meta documents them.

https://developers.facebook.com/documentation/ads-commerce/conversions-api/using-the-api,
https://developers.facebook.com/documentation/ads-commerce/conversions-api/conversion-leads-integration/payload-specification
"""

from .. import errors
from ..conversions import (
    MAX_EVENTS,
    SUBCODE_REQUIRED,
    check_event,
    param_error,
    receive,
)
from ..graph import ROUTES
from ..store import DATASET_NODE


@ROUTES.node("POST", DATASET_NODE, "events")
def dataset_events(call):
    call.require_scope("ads_management")
    data = call.json_param("data")
    if data is None or data == []:
        raise param_error("The parameter $['data'] is required.", SUBCODE_REQUIRED)
    if not isinstance(data, list):
        raise errors.invalid_param("Param data must be an array of events")
    if len(data) > MAX_EVENTS:
        raise errors.invalid_param(
            f"Too many events in data: at most {MAX_EVENTS} per request"
        )
    now = call.sim.clock.now()
    # one bad event: Meta keeps nothing of the request
    for index, event in enumerate(data):
        check_event(index, event, now)
    received = receive(call.node, data, now, call.param("test_event_code"))
    return {
        "events_received": received,
        "messages": [],
        "fbtrace_id": call.sim.ids.trace_id(),
    }
