"""``make bench-intake``: webhook intake of a real Odoo (18.0 or 19.0) fed by
the simulator.

Starts the Meta simulator and Odoo (2 HTTP workers + cron) on a fresh database
with the addon installed and the sandbox configured, then:

1. sends one signed delivery of N leadgen updates and times the 200;
2. sends the same delivery again (Meta redelivers) and times it;
3. sends a forged delivery (wrong secret);
4. as a baseline in the same run, times a trivial Odoo HTTP request
   (``/web/health``) so the intake figure reads as a ratio to Odoo's floor;
5. a storm: one delivery of ``--storm`` comment updates, redelivered while
   the processing cron works through it (the redelivery must neither fail
   nor wait), then one lead submitted behind the storm: the time until its
   CRM lead exists (kinds take turns, so it does not wait for the storm).

Prints the figures, then one JSON line. Usage:
    python tools/bench_intake.py --odoo /path/to/odoo [--python PY] [--n 1000]
"""

import json
import statistics
import sys
import time
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from odoo_harness import (  # noqa: E402
    OdooHarness,
    bench_parser,
    page_connection,
    post_signed,
)

from meta_simulator import MetaSimulator, payloads  # noqa: E402

APP_ID = "777000"
APP_SECRET = "bench_app_secret"


def count_events(database):
    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute("SELECT count(*) FROM meta_webhook_event")
        return cr.fetchone()[0]


def lead_exists(database, leadgen_id):
    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM meta_lead"
            " WHERE leadgen_id = %s AND lead_id IS NOT NULL",
            [leadgen_id],
        )
        return cr.fetchone()[0] > 0


def count_storm_done(database):
    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM meta_webhook_event"
            " WHERE kind = 'page_comment' AND state NOT IN ('pending', 'failed')"
        )
        return cr.fetchone()[0]


def wait_drained(database, timeout=900):
    """Wait until the cron has no pending event left (a clean start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM meta_webhook_event WHERE state = 'pending'"
            )
            if not cr.fetchone()[0]:
                return True
        time.sleep(0.5)
    return False


def storm(sim, odoo, page, url, size):
    """A storm of comments, its redelivery during processing, a lead behind it.

    Starts once the cron has drained what the first phase stored, so the lead
    waits behind the storm only, not behind older leads of its own kind.
    """
    wait_drained(odoo.database)
    changes = [
        payloads.feed_comment(
            page["id"],
            comment_id=f"{page['id']}_{index}",
            post_id=f"{page['id']}_1",
            from_id="24000000000001",
            message="Fiyat nedir?",
        )
        for index in range(size)
    ]
    body = sim.webhooks.encode(payloads.delivery("page", changes))
    signature = sim.webhooks.sign(body, APP_SECRET)
    before = count_events(odoo.database)
    status, ms = timed_post(url, body, signature)
    stored = count_events(odoo.database) - before
    # wait until the cron is inside the storm, then Meta redelivers it
    deadline = time.monotonic() + 60
    while count_storm_done(odoo.database) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    busy_before = count_storm_done(odoo.database)
    again_status, again_ms = timed_post(url, body, signature)
    stored_again = count_events(odoo.database) - before - stored
    # a lead submitted behind the storm
    form = sim.add_form(page["id"], name="Storm Form")
    lead = sim.add_lead(form["id"])
    lead_body = sim.webhooks.encode(
        payloads.delivery("page", [payloads.leadgen_change(lead)])
    )
    started = time.perf_counter()
    post_signed(requests, url, lead_body, sim.webhooks.sign(lead_body, APP_SECRET))
    while not lead_exists(odoo.database, lead["id"]):
        if time.perf_counter() - started > 120:
            break
        time.sleep(0.02)
    lead_ms = (time.perf_counter() - started) * 1000
    storm_done_at_lead = count_storm_done(odoo.database)
    print(
        f"storm: {size} comments ({len(body)} bytes) -> {status} in {ms:.0f} ms, "
        f"stored {stored}; redelivered while the cron had done {busy_before} -> "
        f"{again_status} in {again_ms:.0f} ms, stored {stored_again}; a lead behind "
        f"the storm was in the CRM after {lead_ms:.0f} ms, when the cron had done "
        f"{storm_done_at_lead} of {size} comments"
    )
    return {
        "storm": size,
        "storm_status": status,
        "storm_ms": round(ms, 1),
        "storm_stored": stored,
        "storm_redelivery_status": again_status,
        "storm_redelivery_ms": round(again_ms, 1),
        "storm_redelivery_stored": stored_again,
        "lead_behind_storm_ms": round(lead_ms, 1),
        "storm_done_when_lead_landed": storm_done_at_lead,
    }


def timed_post(url, body, signature):
    started = time.perf_counter()
    response = post_signed(requests, url, body, signature)
    return response.status_code, (time.perf_counter() - started) * 1000


def main():
    parser = bench_parser(__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--storm", type=int, default=10000)
    args = parser.parse_args()

    with (
        MetaSimulator(seed=1, app_id=APP_ID, app_secret=APP_SECRET) as sim,
        OdooHarness(args.odoo, args.python) as odoo,
    ):
        page = sim.add_page(name="Bench Page")
        odoo.install_for(
            sim, page_connection("Bench Page", page["id"], page["access_token"])
        )
        odoo.start(
            "--workers=2", "--max-cron-threads=1", log_file="bench-intake-odoo.log"
        )
        url = odoo.webhook_url

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
        storm_result = storm(sim, odoo, page, url, args.storm) if args.storm else {}

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
        **storm_result,
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
    ) and (
        not storm_result
        or (
            storm_result["storm_redelivery_status"] == 200
            and storm_result["storm_redelivery_stored"] == 0
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
