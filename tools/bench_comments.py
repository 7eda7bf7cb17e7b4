"""``make bench-comments``: a Page comment's way from Meta's webhook to the
customer card of a real Odoo (18.0 or 19.0).

1. Fresh database with the addon, a sandbox connection to the simulator's
   Page (no Graph call is needed: a comment webhook carries its text).
2. Floor, measured in the same run: a bare ``res.partner`` create, a note
   posted in its chatter and a commit, as an ``odoo-bin shell`` does them.
3. Odoo serves HTTP with 2 workers plus 2 cron workers; N ``feed`` comment
   webhooks (each from a new person) are sent at R per second, every tenth
   followed by its boosted-post double (the same comment with an ``ad_id``,
   as Meta sends for ads). For each comment the time from the webhook POST to
   the moment another database connection sees it committed on a partner is
   recorded (polled every 10 ms).

Prints the figures, then one JSON line last:
{"n", "rate", "p50_ms", "p95_ms", "p99_ms", "floor_ms", "ratio_p95_floor",
 "lost", "duplicated", "doubles"}

Usage: python tools/bench_comments.py --odoo PATH [--python PY] [--n 200]
       [--rate 10]
"""

import json
import statistics
import sys
import time
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_leads import Watcher, latency_figures  # noqa: E402
from odoo_harness import (  # noqa: E402
    OdooHarness,
    bench_parser,
    marker_json,
    page_connection,
    post_signed,
)

from meta_simulator import MetaSimulator, payloads  # noqa: E402

APP_ID = "555003"
APP_SECRET = "bench_comments_secret"

SETUP = """
import json, time
{connect}env.cr.commit()
Partner = env['res.partner']
floor_ms = []
for n in range(20):
    t0 = time.perf_counter()
    partner = Partner.create({{'name': f'Floor Kişi {{n}}'}})
    partner.message_post(body='Fiyat nedir?', message_type='comment')
    env.cr.commit()
    floor_ms.append((time.perf_counter() - t0) * 1000)
print('BENCH_SETUP ' + json.dumps({{'floor_ms': floor_ms}}))
"""


#: The comments committed on a partner, among ``%s`` (comment ids).
COMMENTS_SEEN = """SELECT comment_ref FROM meta_social_comment
                     WHERE partner_id IS NOT NULL AND comment_ref = ANY(%s)"""


def comment_delivery(page_id, index, boosted=False):
    post_id = f"{page_id}_7000000000001"
    body = payloads.feed_comment(
        page_id,
        comment_id=f"7000000000001_{100000 + index}",
        post_id=post_id,
        from_id=str(8000000000000 + index),
        from_name=f"Yorumcu {index}",
        message=f"Bu ürünün fiyatı nedir? ({index})",
        created_time=int(time.time()),
    )
    if boosted:
        body["entry"][0]["changes"][0]["value"]["ad_id"] = "120000000000555"
    return body


def main():
    parser = bench_parser(__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    with (
        MetaSimulator(seed=5, app_id=APP_ID, app_secret=APP_SECRET) as sim,
        OdooHarness(args.odoo, args.python) as odoo,
    ):
        page = sim.add_page(name="Bench Page")
        output = odoo.install_for(
            sim,
            SETUP.format(
                connect=page_connection("Bench Page", page["id"], page["access_token"])
            ),
        )
        setup = marker_json(output)
        floor_ms = statistics.median(setup["floor_ms"])
        print(
            f"floor: res.partner create + chatter note + commit "
            f"{floor_ms:.1f} ms (median of 20)"
        )
        odoo.start(
            "--workers=2", "--max-cron-threads=2", log_file="bench-comments-odoo.log"
        )
        url = odoo.webhook_url
        session = requests.Session()
        pending = {}
        watcher = Watcher(odoo.database, pending, query=COMMENTS_SEEN)
        watcher.start()
        # warm-up: the first request of each worker loads the registry
        for index in range(4):
            body = sim.webhooks.encode(comment_delivery(page["id"], 90000 + index))
            post_signed(session, url, body, sim.webhooks.sign(body, APP_SECRET))
        time.sleep(3)

        interval = 1.0 / args.rate
        started = time.perf_counter()
        statuses, doubles = [], 0
        for index in range(args.n):
            target = started + index * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            delivery = comment_delivery(page["id"], index)
            ref = delivery["entry"][0]["changes"][0]["value"]["comment_id"]
            body = sim.webhooks.encode(delivery)
            pending[ref] = time.perf_counter()
            response = post_signed(
                session, url, body, sim.webhooks.sign(body, APP_SECRET)
            )
            statuses.append(response.status_code)
            if index % 10 == 0:
                double = sim.webhooks.encode(
                    comment_delivery(page["id"], index, boosted=True)
                )
                post_signed(session, url, double, sim.webhooks.sign(double, APP_SECRET))
                doubles += 1
        deadline = time.perf_counter() + args.timeout
        while len(watcher.seen) < len(pending) and time.perf_counter() < deadline:
            time.sleep(0.05)
        watcher.stop.set()
        watcher.join()
        with psycopg2.connect(dbname=odoo.database) as conn, conn.cursor() as cr:
            cr.execute(
                """SELECT count(*) - count(DISTINCT comment_ref)
                     FROM meta_social_comment WHERE comment_ref = ANY(%s)""",
                [list(pending)],
            )
            duplicated = cr.fetchone()[0]

    figures = latency_figures(watcher, floor_ms)
    lost = figures["lost"]
    print(
        f"sent {args.n} comment webhooks at {args.rate}/s (+{doubles} boosted-post "
        f"doubles), statuses {sorted(set(statuses))}, {figures.pop('seen')} "
        f"comments committed on a partner"
    )
    result = {
        "n": args.n,
        "rate": args.rate,
        **figures,
        "duplicated": duplicated,
        "doubles": doubles,
    }
    print(json.dumps(result))
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
