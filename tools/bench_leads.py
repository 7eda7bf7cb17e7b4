"""``make bench-leads``: speed-to-lead of a real Odoo (18.0 or 19.0) fed by
the simulator.

1. Fresh database with the addon, sandbox connection to the simulator.
2. Backfill figure: a form with 10,000 leads on Meta, imported by the
   reconciliation (initial backfill), timed.
3. Floor, measured in the same run: a bare Graph lead fetch from the
   simulator plus a bare ``crm.lead.create`` (+ commit) with the same values.
4. Odoo serves HTTP with 2 workers plus its default 2 cron workers; N leadgen
   webhooks are
   sent at R per second, and for each lead the time from the webhook POST to
   the moment another database connection sees its ``crm.lead`` committed with
   its call activity is recorded (polled every 10 ms).

5. Drain: Odoo restarted without cron workers receives a backlog of
   DRAIN leadgen updates (in deliveries of 50, as Meta batches them), then
   restarted with its 2 cron workers, which drain it; the rate is read from
   the events' processing times in the database (first to last).

The floor uses the connection's own client, so the same keep-alive HTTP
session as production; its rate is one lead per floor time.

Prints the backfill figure, then one JSON line last:
{"n", "rate", "p50_ms", "p95_ms", "p99_ms", "floor_ms", "ratio_p95_floor",
 "lost", "duplicated", "drain_n", "drain_leads_per_s", "floor_leads_per_s",
 "drain_ratio_floor", "drain_lost"}

Usage: python tools/bench_leads.py --odoo PATH [--python PY] [--n 200]
       [--rate 10] [--backfill 10000] [--drain 2000]
"""

import json
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from odoo_harness import (  # noqa: E402
    OdooHarness,
    bench_parser,
    marker_json,
    page_connection,
    post_signed,
)

from meta_simulator import MetaSimulator, payloads  # noqa: E402

APP_ID = "555000"
APP_SECRET = "bench_leads_secret"

SETUP = """
import json, time
from odoo.addons.meta_graph_connector import series
from odoo.addons.meta_graph_connector.graph import api as meta_api
Users = env['res.users']
seller = Users.create(series.xml_values(Users, {{
    'name': 'Bench Seller', 'login': 'bench_seller',
    'groups_id': [(4, env.ref('sales_team.group_sale_salesman').id)],
}}))
{connect}forms = env['meta.lead.form']._meta_sync_forms(page)
forms.write({{'user_id': seller.id, 'lead_type': 'opportunity'}})
live = forms.filtered(lambda f: f.meta_form_id == {live_form!r})
live.write({{'backfill_state': 'done'}})
history = forms - live
env.cr.commit()
started = time.perf_counter()
env['meta.lead.sync']._meta_sync_form(history, auto_commit=True)
backfill_s = time.perf_counter() - started
imported = env['crm.lead'].search_count([('meta_form_id', '=', history.id)])
# floor: a bare Graph fetch of one lead plus a bare crm.lead create + commit
client = page.connection_id._meta_client(page)
fetch_ms, create_ms = [], []
leadgen_ids = {floor_ids!r}
for leadgen_id in leadgen_ids:
    t0 = time.perf_counter()
    graph_lead = meta_api.get_lead(client, leadgen_id)
    fetch_ms.append((time.perf_counter() - t0) * 1000)
    values = {{
        'name': graph_lead['id'], 'type': 'opportunity', 'user_id': seller.id,
        'email_from': 'floor@example.com', 'phone': '+905321234567',
        'contact_name': 'Floor Lead',
    }}
    t0 = time.perf_counter()
    env['crm.lead'].create(values)
    env.cr.commit()
    create_ms.append((time.perf_counter() - t0) * 1000)
print('BENCH_SETUP ' + json.dumps({{
    'backfill_s': backfill_s, 'backfill_imported': imported,
    'fetch_ms': fetch_ms, 'create_ms': create_ms,
}}))
"""


def latency_figures(watcher, floor_ms):
    """p50/p95/p99 of what the watcher saw committed, against the floor, and
    what it never saw (lost): the figures the latency benches print."""
    latencies = [
        (watcher.seen[i] - sent) * 1000
        for i, sent in watcher.pending.items()
        if i in watcher.seen
    ]

    def cut(fraction):
        return round(percentile(latencies, fraction), 1) if latencies else None

    p95 = percentile(latencies, 0.95) if latencies else None
    return {
        "p50_ms": cut(0.50),
        "p95_ms": cut(0.95),
        "p99_ms": cut(0.99),
        "floor_ms": round(floor_ms, 1),
        "ratio_p95_floor": round(p95 / floor_ms, 1) if latencies else None,
        "lost": len(watcher.pending) - len(latencies),
        "seen": len(latencies),
    }


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


#: The leads committed with their call activity, among ``%s`` (leadgen ids).
LEADS_SEEN = """SELECT DISTINCT ml.leadgen_id
                  FROM meta_lead ml
                  JOIN mail_activity a
                    ON a.res_model = 'crm.lead' AND a.res_id = ml.lead_id
                 WHERE ml.leadgen_id = ANY(%s)"""


class Watcher(threading.Thread):
    """Polls PostgreSQL for what is committed among ``pending`` (by default,
    leads with their call activity; ``query`` selects the keys seen among
    the ``%s`` array)."""

    def __init__(self, database, pending, query=LEADS_SEEN):
        super().__init__(daemon=True)
        self.database = database
        self.pending = pending  # key -> send time
        self.query = query
        self.seen = {}
        self.stop = threading.Event()

    def run(self):
        with psycopg2.connect(dbname=self.database) as conn:
            conn.autocommit = True
            with conn.cursor() as cr:
                while not self.stop.is_set():
                    waiting = [i for i in list(self.pending) if i not in self.seen]
                    if waiting:
                        cr.execute(self.query, [waiting])
                        now = time.perf_counter()
                        for (key,) in cr.fetchall():
                            self.seen[key] = now
                    time.sleep(0.01)


def measure_drain(sim, odoo, form_id, count, timeout):
    """Store ``count`` leadgen updates with no cron running, then let Odoo's
    2 cron workers drain them. The rate is taken between the first poll that
    sees events done and the one that sees none left (polled every 0.2 s)."""
    odoo.stop()
    odoo.start("--workers=2", "--max-cron-threads=0", log_file="bench-drain-odoo.log")
    with psycopg2.connect(dbname=odoo.database) as conn, conn.cursor() as cr:
        cr.execute("SELECT coalesce(max(id), 0) FROM meta_webhook_event")
        marker = cr.fetchone()[0]
    url = odoo.webhook_url
    session = requests.Session()
    leads = sim.add_leads(form_id, count, start=time.time() - 600, end=time.time())
    for offset in range(0, count, 50):
        batch = leads[offset : offset + 50]
        changes = [payloads.leadgen_change(lead) for lead in batch]
        body = sim.webhooks.encode(payloads.delivery("page", changes))
        response = post_signed(session, url, body, sim.webhooks.sign(body, APP_SECRET))
        response.raise_for_status()
    odoo.stop()
    odoo.start("--workers=2", "--max-cron-threads=2", log_file="bench-drain-odoo.log")
    odoo.wake_crons()  # else the cron workers' first pass waits ~70 s
    query = """SELECT count(*) FILTER (WHERE state IN ('pending', 'failed')),
                      count(*) FILTER (WHERE state = 'done')
                 FROM meta_webhook_event WHERE id > %s"""
    deadline = time.monotonic() + timeout + count / 2
    first = None
    with psycopg2.connect(dbname=odoo.database) as conn:
        conn.autocommit = True
        with conn.cursor() as cr:
            while time.monotonic() < deadline:
                cr.execute(query, [marker])
                waiting, done = cr.fetchone()
                now = time.perf_counter()
                if done and first is None:
                    first = (now, done)
                if not waiting:
                    break
                if first is None:
                    odoo.wake_crons()  # the workers may not have listened yet
                time.sleep(0.2)
            cr.execute(
                "SELECT count(DISTINCT leadgen_id) FROM meta_lead"
                " WHERE leadgen_id = ANY(%s) AND lead_id IS NOT NULL",
                [[lead["id"] for lead in leads]],
            )
            imported = cr.fetchone()[0]
    seconds = now - first[0] if first else 0.0
    rate = (done - first[1]) / seconds if seconds else 0.0
    return {"seconds": seconds, "rate": rate, "lost": count - imported}


def main():
    parser = bench_parser(__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--backfill", type=int, default=10000)
    parser.add_argument("--drain", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    with (
        MetaSimulator(seed=3, app_id=APP_ID, app_secret=APP_SECRET) as sim,
        OdooHarness(args.odoo, args.python) as odoo,
    ):
        page = sim.add_page(name="Bench Page")
        live_form = sim.add_form(page["id"], name="Canlı Form")
        history_form = sim.add_form(page["id"], name="Geçmiş Form")
        now = time.time()
        sim.add_leads(
            history_form["id"], args.backfill, start=now - 80 * 86400, end=now - 86400
        )
        floor_leads = [sim.add_lead(live_form["id"]) for _ in range(20)]
        output = odoo.install_for(
            sim,
            SETUP.format(
                connect=page_connection("Bench Page", page["id"], page["access_token"]),
                live_form=live_form["id"],
                floor_ids=[lead["id"] for lead in floor_leads],
            ),
        )
        setup = marker_json(output)
        print(
            f"backfill: {setup['backfill_imported']} leads of one form imported in "
            f"{setup['backfill_s']:.1f} s "
            f"({setup['backfill_imported'] / setup['backfill_s']:.0f} leads/s; "
            f"target: {args.backfill} in <= 60 s)"
        )
        floor_ms = statistics.median(setup["fetch_ms"]) + statistics.median(
            setup["create_ms"]
        )
        print(
            f"floor: Graph lead fetch {statistics.median(setup['fetch_ms']):.1f} ms + "
            f"crm.lead create+commit {statistics.median(setup['create_ms']):.1f} ms"
        )

        odoo.start(
            "--workers=2", "--max-cron-threads=2", log_file="bench-leads-odoo.log"
        )
        url = odoo.webhook_url
        session = requests.Session()
        pending = {}
        watcher = Watcher(odoo.database, pending)
        watcher.start()
        # warm-up: the first request of each worker loads the registry
        for _ in range(4):
            warm = sim.add_lead(live_form["id"])
            body = sim.webhooks.encode(
                payloads.delivery("page", [payloads.leadgen_change(warm)])
            )
            post_signed(session, url, body, sim.webhooks.sign(body, APP_SECRET))
        time.sleep(3)

        interval = 1.0 / args.rate
        started = time.perf_counter()
        statuses = []
        for index in range(args.n):
            target = started + index * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            lead = sim.add_lead(live_form["id"])
            body = sim.webhooks.encode(
                payloads.delivery("page", [payloads.leadgen_change(lead)])
            )
            sent = time.perf_counter()
            pending[lead["id"]] = sent
            response = post_signed(
                session, url, body, sim.webhooks.sign(body, APP_SECRET)
            )
            statuses.append(response.status_code)
        deadline = time.perf_counter() + args.timeout
        while len(watcher.seen) < len(pending) and time.perf_counter() < deadline:
            time.sleep(0.05)
        watcher.stop.set()
        watcher.join()
        with psycopg2.connect(dbname=odoo.database) as conn, conn.cursor() as cr:
            cr.execute(
                """SELECT count(*) - count(DISTINCT ml.leadgen_id)
                     FROM crm_lead l JOIN meta_lead ml ON ml.lead_id = l.id
                    WHERE ml.leadgen_id = ANY(%s)""",
                [list(pending)],
            )
            duplicated = cr.fetchone()[0]
            cr.execute("SELECT count(*) FROM crm_lead WHERE meta_form_id IS NOT NULL")
            total_leads = cr.fetchone()[0]
        drain = measure_drain(sim, odoo, live_form["id"], args.drain, args.timeout)

    figures = latency_figures(watcher, floor_ms)
    lost = figures["lost"]
    print(
        f"sent {args.n} webhooks at {args.rate}/s, statuses {sorted(set(statuses))}, "
        f"{figures.pop('seen')} leads committed with their activity, "
        f"{total_leads} Meta leads in the database"
    )
    result = {
        "n": args.n,
        "rate": args.rate,
        **figures,
        "duplicated": duplicated,
        "drain_n": args.drain,
        "drain_leads_per_s": round(drain["rate"], 1),
        "floor_leads_per_s": round(1000 / floor_ms, 1),
        "drain_ratio_floor": round(drain["rate"] / (1000 / floor_ms), 2),
        "drain_lost": drain["lost"],
    }
    print(
        f"drain: a backlog of {args.drain} leads processed in "
        f"{drain['seconds']:.1f} s by 2 cron workers ({drain['rate']:.1f} leads/s; "
        f"floor {1000 / floor_ms:.1f} leads/s)"
    )
    print(json.dumps(result))
    ok = lost == 0 and duplicated == 0 and drain["lost"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
