"""``make bench-intake``: webhook intake of a real Odoo 18 fed by the simulator.

Starts the Meta simulator and Odoo (2 HTTP workers + cron) on a fresh database
with the addon installed and the sandbox configured, then:

1. sends one signed delivery of N leadgen updates and times the 200;
2. sends the same delivery again (Meta redelivers) and times it;
3. sends a forged delivery (wrong secret);
4. as a baseline in the same run, times a trivial Odoo HTTP request
   (``/web/health``) so the intake figure reads as a ratio to Odoo's floor.

Prints the figures, then one JSON line. Usage:
    python tools/bench_intake.py --odoo /path/to/odoo [--python PY] [--n 1000]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from odoo_harness import OdooHarness, post_signed, sandbox_settings  # noqa: E402

from meta_simulator import MetaSimulator, payloads  # noqa: E402

APP_ID = "777000"
APP_SECRET = "bench_app_secret"


def count_events(database):
    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM meta_webhook_event")
        return cr.fetchone()[0]


def timed_post(url, body, signature):
    started = time.perf_counter()
    response = post_signed(requests, url, body, signature)
    return response.status_code, (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--odoo", required=True)
    parser.add_argument("--python", default=None)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with (
        MetaSimulator(seed=1, app_id=APP_ID, app_secret=APP_SECRET) as sim,
        OdooHarness(args.odoo, args.python) as odoo,
    ):
        page = sim.add_page(name="Bench Page")
        odoo.install()
        odoo.shell(
            sandbox_settings(APP_ID, APP_SECRET, sim.base_url)
            + "env['meta.account'].create({'name': 'Bench Page', "
            f"'page_id': {page['id']!r}, "
            f"'page_access_token': {page['access_token']!r}}})\n"
        )
        odoo.start(
            "--workers=2", "--max-cron-threads=1", log_file="bench-intake-odoo.log"
        )
        url = f"{odoo.url}/meta/webhook"

        # baseline: Odoo's own cheapest request, measured in the same run
        floor = []
        for _ in range(20):
            started = time.perf_counter()
            requests.get(f"{odoo.url}/web/health", timeout=10)
            floor.append((time.perf_counter() - started) * 1000)

        runs = []
        for run in range(args.repeat):
            changes = [
                payloads.leadgen_change(
                    {
                        "id": str(900000000000000 + run * args.n + index),
                        "form_id": "3333",
                        "ad_id": "4444",
                        "created_time": 1790000000 + index,
                    },
                    page_id=page["id"],
                )
                for index in range(args.n)
            ]
            body = sim.webhooks.encode(payloads.delivery("page", changes))
            signature = sim.webhooks.sign(body, APP_SECRET)
            before = count_events(odoo.database)
            status, first_ms = timed_post(url, body, signature)
            stored = count_events(odoo.database) - before
            status_again, again_ms = timed_post(url, body, signature)
            stored_again = count_events(odoo.database) - before - stored
            forged_status, forged_ms = timed_post(
                url, body, sim.webhooks.sign(body, "forged")
            )
            stored_forged = count_events(odoo.database) - before - stored - stored_again
            runs.append(
                {
                    "status": status,
                    "ms": first_ms,
                    "stored": stored,
                    "again_status": status_again,
                    "again_ms": again_ms,
                    "again_stored": stored_again,
                    "forged_status": forged_status,
                    "forged_ms": forged_ms,
                    "forged_stored": stored_forged,
                    "body_bytes": len(body),
                }
            )
            print(
                f"run {run + 1}: {args.n} updates ({len(body)} bytes) -> {status} in "
                f"{first_ms:.0f} ms, stored {stored}; again -> {status_again} in "
                f"{again_ms:.0f} ms, stored {stored_again}; forged -> {forged_status} "
                f"in {forged_ms:.1f} ms, stored {stored_forged}"
            )

    floor_ms = statistics.median(floor)
    median_ms = statistics.median(r["ms"] for r in runs)
    result = {
        "n": args.n,
        "runs": len(runs),
        "ack_ms_median": round(median_ms, 1),
        "ack_ms_max": round(max(r["ms"] for r in runs), 1),
        "redelivery_ms_median": round(
            statistics.median(r["again_ms"] for r in runs), 1
        ),
        "forged_ms_median": round(statistics.median(r["forged_ms"] for r in runs), 1),
        "floor_ms": round(floor_ms, 1),
        "ratio_ack_floor": round(median_ms / floor_ms, 1),
        "stored": [r["stored"] for r in runs],
        "stored_again": sum(r["again_stored"] for r in runs),
        "stored_forged": sum(r["forged_stored"] for r in runs),
        "statuses": sorted(
            {(r["status"], r["again_status"], r["forged_status"]) for r in runs}
        ),
    }
    print(json.dumps(result))
    ok = all(
        r["status"] == 200
        and r["stored"] == args.n
        and r["again_status"] == 200
        and r["again_stored"] == 0
        and r["forged_status"] == 403
        and r["forged_stored"] == 0
        for r in runs
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
