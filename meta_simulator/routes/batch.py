"""Batch requests (docs/meta-facts.md §9.3).

``POST /{v}/`` with ``batch=[{"method","relative_url","body"?}]``: at most
50 items, each executed through the normal pipeline (and counted as one
call), answered as ``[{"code", "headers", "body": "<JSON string>"}]``.

Deviations: ``depends_on``/``name`` and JSONPath references are not
supported (items run independently, in order); items reusing the batch's
token inherit its ``appsecret_proof`` check, items with their own token
must carry their own proof.

Each item is a call of its own (Meta answers, counts and fails each item on
its own): a scripted fault whose path an item's path contains fails that
item alone, in its answer, as it would fail the call made by itself; a
``hang`` is of an HTTP exchange, never of an item.
"""

from urllib.parse import parse_qsl, urlsplit

from .. import errors
from ..graph import ROUTES, graph_json

MAX_BATCH_ITEMS = 50


@ROUTES.path("POST", count=False)
def batch(call):
    items = call.json_param("batch")
    if items is None:
        raise errors.invalid_param("The parameter batch is required")
    if not isinstance(items, list):
        raise errors.invalid_param("The parameter batch must be a JSON array")
    if len(items) > MAX_BATCH_ITEMS:
        raise errors.invalid_param(
            "Too many requests in batch message. Maximum batch size is 50"
        )
    include_headers = str(call.param("include_headers", "true")).lower() != "false"
    # The pipeline holds the store lock; items take it again (re-entrant).
    return [_run_item(call, item, include_headers) for item in items]


def _run_item(call, item, include_headers):
    if not isinstance(item, dict) or not item.get("relative_url"):
        error = errors.invalid_param("Each batch item needs a relative_url")
        return {"code": 400, "body": graph_json(error.body("")).decode()}
    method = str(item.get("method", "GET")).upper()
    parts = urlsplit(str(item["relative_url"]))
    path = "/" + parts.path.lstrip("/")
    first = path.split("/")[1] if path.count("/") else ""
    if not (first.startswith("v") and "." in first):
        # An unversioned relative_url uses the batch request's version.
        path = f"/{call.version or call.served_version}{path}"
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    body = item.get("body") or {}
    if isinstance(body, str):
        body = dict(parse_qsl(body, keep_blank_values=True))
    scripted = call.app.sim.faults.take_scripted(method, path)
    result = call.app.execute(
        method,
        path,
        query,
        body,
        {},
        in_batch=True,
        verified_token=call.token_value,
        fallback_token=call.token_value,
        scripted=scripted if scripted and scripted.kind != "hang" else None,
    )
    answer = {"code": result.status}
    if include_headers:
        answer["headers"] = [
            {"name": name, "value": value} for name, value in result.headers.items()
        ]
    answer["body"] = graph_json(result.body).decode()
    return answer
