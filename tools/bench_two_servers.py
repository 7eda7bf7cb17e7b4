"""``make bench-two-servers``: two Odoo servers drain one database's leads.

1. Fresh database with the addon, sandbox connection to the simulator, one
   lead form on Meta. PEOPLE people submit it SUBMISSIONS times each, every
   time spelling their phone another way (500 x 4 = 2,000 leads by default).
2. Odoo without cron workers stores the webhooks (deliveries of 50, as Meta
   batches them, shuffled), nothing processed yet.
3. Two Odoo servers on that database, each with 2 HTTP workers and
   ``--max-cron-threads=2``, drain the backlog together: four cron workers on
   the two lanes of the webhook queue, two of them in each server.
4. Counted in the database once nothing is due: leads lost (a submission
   without its CRM lead), duplicated (a submission with two CRM leads),
   processed twice (an event run more than once), people with more than one
   customer, events left failed or dead, and the ERROR lines the queue or the
   database wrote in both servers' logs.

Prints one JSON line last:
{"leads", "servers", "seconds", "lost", "duplicated", "processed_twice",
 "people_with_two_customers", "failed", "dead", "log_errors"}

Usage: python tools/bench_two_servers.py --odoo PATH [--python PY]
       [--people 500] [--submissions 4] [--timeout 600]
"""

import json
import random
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

APP_ID = "555002"
APP_SECRET = "bench_two_servers_secret"
QUESTIONS = [
    {"id": "1", "key": "full_name", "label": "Ad Soyad", "type": "FULL_NAME"},
    {"id": "2", "key": "email", "label": "E-posta", "type": "EMAIL"},
    {"id": "3", "key": "phone_number", "label": "Telefon", "type": "PHONE"},
]

SETUP = """
{connect}forms = env['meta.lead.form']._meta_sync_forms(page)
forms.write({{'backfill_state': 'done', 'lead_type': 'lead'}})
env.company.country_id = env.ref('base.tr')
# crm's lead enrichment (auto-installed with crm) calls Odoo's IAP servers,
# which a sandbox cannot reach: its errors would drown the queue's
enrich = env.ref('crm_iap_enrich.ir_cron_lead_enrichment', raise_if_not_found=False)
if enrich:
    enrich.active = False
env.cr.commit()
"""


def spellings(number):
    """Ways people type one Turkish mobile number (``5321234567``)."""
    a, b, c, d = number[:3], number[3:6], number[6:8], number[8:]
    return [
        f"+90 {a} {b} {c} {d}",
        f"0{a} {b} {c} {d}",
        f"0090{a}{b}{c}{d}",
        f"(0{a}) {b}-{c}-{d}",
        f"90 {a} {b} {c}{d}",
        f"{a}{b}{c}{d}",
    ]


def submit_all(sim, form_id, people, submissions, rng):
    """PEOPLE x SUBMISSIONS leads; a person's e-mail only on some of them,
    so that the phone alone must tell it is the same person."""
    leads = []
    for person in range(people):
        number = f"53{person % 10}{person:07d}"
        for index, phone in enumerate(spellings(number)[:submissions]):
            answers = {
                "full_name": f"Kişi {person}",
                "phone_number": phone,
                "email": f"kisi.{person}@ornek.com.tr" if index % 2 else "",
            }
            leads.append(
                sim.add_lead(
                    form_id,
                    field_data=[
                        {"name": key, "values": [value]}
                        for key, value in answers.items()
                        if value
                    ],
                )
            )
    rng.shuffle(leads)
    return leads


#: loggers whose ERROR lines are counted: the addon's and the database's
ERROR_LOGGERS = (" odoo.addons.meta_graph_connector.", " odoo.sql_db:")

COUNTS = """
SELECT
  (SELECT count(*) FROM unnest(%(ids)s::varchar[]) AS wanted(id)
    WHERE NOT EXISTS (SELECT 1 FROM meta_lead ml
                       WHERE ml.leadgen_id = wanted.id AND ml.lead_id IS NOT NULL)),
  (SELECT count(*) - count(DISTINCT ml.leadgen_id) FROM meta_lead ml
     JOIN crm_lead l ON l.id = ml.lead_id WHERE ml.leadgen_id = ANY(%(ids)s)),
  (SELECT count(*) FROM meta_webhook_event
    WHERE kind = 'leadgen' AND attempts > 1),
  (SELECT count(*) FROM (
      SELECT l.phone FROM crm_lead l
       WHERE l.meta_form_id IS NOT NULL AND l.partner_id IS NOT NULL
    GROUP BY l.phone HAVING count(DISTINCT l.partner_id) > 1) AS split),
  (SELECT count(*) FROM meta_webhook_event WHERE state = 'failed'),
  (SELECT count(*) FROM meta_webhook_event WHERE state = 'dead')
"""


def main():
    parser = bench_parser(__doc__)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--submissions", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    rng = random.Random(20)

    with (
        MetaSimulator(seed=20, app_id=APP_ID, app_secret=APP_SECRET) as sim,
        OdooHarness(args.odoo, args.python) as first,
    ):
        page = sim.add_page(name="Two Servers Page")
        form = sim.add_form(page["id"], name="İki Sunucu", questions=QUESTIONS)
        first.install_for(
            sim,
            SETUP.format(
                connect=page_connection(
                    "Two Servers Page", page["id"], page["access_token"]
                )
            ),
        )
        leads = submit_all(sim, form["id"], args.people, args.submissions, rng)

        # the backlog: stored by a server without cron workers
        first.start("--workers=2", "--max-cron-threads=0", log_file="bench-2s-a.log")
        session = requests.Session()
        url = first.webhook_url
        for offset in range(0, len(leads), 50):
            changes = [
                payloads.leadgen_change(lead) for lead in leads[offset : offset + 50]
            ]
            body = sim.webhooks.encode(payloads.delivery("page", changes))
            post_signed(
                session, url, body, sim.webhooks.sign(body, APP_SECRET)
            ).raise_for_status()
        first.stop()

        second = OdooHarness(
            args.odoo, args.python, database=first.database, data_dir=first.data_dir
        )
        logs = ["bench-2s-a.log", "bench-2s-b.log"]
        started = time.perf_counter()
        try:
            for server, log in ((first, logs[0]), (second, logs[1])):
                server.start("--workers=2", "--max-cron-threads=2", log_file=log)
            drained = first.wait_for(
                "SELECT count(*) FROM meta_webhook_event"
                " WHERE state IN ('pending', 'failed') AND (next_attempt_at IS NULL"
                " OR next_attempt_at <= now() AT TIME ZONE 'UTC')",
                timeout=args.timeout,
            )
            seconds = time.perf_counter() - started
        finally:
            second.stop()
            first.stop()
        with psycopg2.connect(dbname=first.database) as conn, conn.cursor() as cr:
            cr.execute(COUNTS, {"ids": [lead["id"] for lead in leads]})
            lost, duplicated, twice, split, failed, dead = cr.fetchone()
    log_errors = sum(
        1
        for log in logs
        for line in Path(log).read_text().splitlines()
        if " ERROR " in line and any(name in line for name in ERROR_LOGGERS)
    )
    result = {
        "leads": len(leads),
        "servers": 2,
        "drained": drained,
        "seconds": round(seconds, 1),
        "lost": lost,
        "duplicated": duplicated,
        "processed_twice": twice,
        "people_with_two_customers": split,
        "failed": failed,
        "dead": dead,
        "log_errors": log_errors,
    }
    print(
        f"{len(leads)} leads of {args.people} people drained by 2 servers x 2 cron "
        f"workers in {seconds:.1f} s: lost {lost}, duplicated {duplicated}, "
        f"processed twice {twice}, people with two customers {split}, "
        f"ERROR lines {log_errors}"
    )
    print(json.dumps(result))
    ok = drained and not (lost or duplicated or twice or split or failed or dead)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
