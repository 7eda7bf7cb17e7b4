"""Meta's rate-limit usage headers (docs/meta-facts.md §9.2).

Every Graph answer may carry ``X-App-Usage`` (percent of the app's hourly
budget), ``X-Business-Use-Case-Usage`` (per Page/ad account and use case, with
``estimated_time_to_regain_access`` in *minutes*) and ``X-Ad-Account-Usage``.
We parse them on every response so callers can slow down before Meta throttles
and know how long to stay away once it does.
"""

import json
from dataclasses import dataclass, field

#: Above this percentage a caller should slow down (§9.2: "slow down above ~75 %").
SLOW_DOWN_PERCENT = 75


def _load_header(headers, name):
    raw = headers.get(name) if headers else None
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        # A header we cannot read must never break the call that carried it.
        return None
    return value if isinstance(value, dict) else None


def _number(value):
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class Usage:
    """Usage reported by one Graph response."""

    app: dict = field(default_factory=dict)
    business: dict = field(default_factory=dict)
    ad_account: dict = field(default_factory=dict)

    @classmethod
    def from_headers(cls, headers):
        app = _load_header(headers, "X-App-Usage") or {}
        business = _load_header(headers, "X-Business-Use-Case-Usage") or {}
        ad_account = _load_header(headers, "X-Ad-Account-Usage") or {}
        business = {
            str(key): [item for item in items if isinstance(item, dict)]
            for key, items in business.items()
            if isinstance(items, list)
        }
        return cls(app=app, business=business, ad_account=ad_account)

    @property
    def is_empty(self):
        return not (self.app or self.business or self.ad_account)

    def max_percent(self):
        """Highest usage percentage over every bucket Meta reported."""
        values = [
            _number(self.app.get(key))
            for key in ("call_count", "total_cputime", "total_time")
        ]
        for items in self.business.values():
            for item in items:
                values.extend(
                    _number(item.get(key))
                    for key in ("call_count", "total_cputime", "total_time")
                )
        values.append(_number(self.ad_account.get("acc_id_util_pct")))
        return max(values, default=0.0)

    def regain_seconds(self):
        """Seconds until every throttled business bucket is usable again."""
        minutes = [
            _number(item.get("estimated_time_to_regain_access"))
            for items in self.business.values()
            for item in items
        ]
        return int(max(minutes, default=0.0) * 60)
