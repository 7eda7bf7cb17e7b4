"""``make bench-throttle``: a connection Meta throttles waits; the others flow.

1. Fresh database with the addon; two connections to the simulator, each with
   one Page and one lead form (forms already synchronised).
2. Odoo serves HTTP with 2 workers and 2 cron workers. The simulator throttles
   every call about the first Page for 60 s (error 80001, the Pages
   business-use-case limit, with ``estimated_time_to_regain_access`` = 1
   minute, as Meta answers:
   https://developers.facebook.com/docs/graph-api/overview/rate-limiting/).
3. For 75 s, one leadgen webhook a second for each Page.

Prints, from the simulator's own request log: the calls the throttled
connection made during the minute after Meta refused it (expected: none), the
calls and leads of the other connection meanwhile, and how long after the
throttle ended the throttled connection was called again and had its leads.
One JSON line last.

Usage: python tools/bench_throttle.py --odoo PATH [--python PY] [--seconds 75]
"""

import json
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_leads import Watcher  # noqa: E402
from odoo_harness import (  # noqa: E402
    OdooHarness,
    bench_parser,
    page_connection,
    post_signed,
)

from meta_simulator import MetaSimulator, payloads  # noqa: E402

APP_ID = "555001"
APP_SECRET = "bench_throttle_secret"
THROTTLE_MINUTES = 1
#: Meta's business-use-case code for the Pages limit
THROTTLE_CODE = 80001

SETUP = """
admin = env.ref('base.user_admin')
{connect_a}{connect_b}forms = env['meta.lead.form']
for page in (page_a, page_b):
    forms |= forms._meta_sync_forms(page)
forms.write({{
    'user_id': admin.id, 'backfill_state': 'done', 'lead_type': 'opportunity',
}})
env.cr.commit()
print('BENCH_SETUP', len(forms))
"""


def send(sim, session, url, form_id, pending):
    lead = sim.add_lead(form_id)
    delivery = payloads.delivery("page", [payloads.leadgen_change(lead)])
    body = sim.webhooks.encode(delivery)
    pending[lead["id"]] = time.perf_counter()
    response = post_signed(session, url, body, sim.webhooks.sign(body, APP_SECRET))
    response.raise_for_status()
    return lead["id"]


def wait_for(watcher, ids, timeout):
    deadline = time.perf_counter() + timeout
    while not set(ids) <= set(watcher.seen) and time.perf_counter() < deadline:
        time.sleep(0.05)
    return set(ids) <= set(watcher.seen)


def main():
    parser = bench_parser(__doc__)
    parser.add_argument("--seconds", type=int, default=75)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    with (
        MetaSimulator(seed=5, app_id=APP_ID, app_secret=APP_SECRET) as sim,
        OdooHarness(args.odoo, args.python) as odoo,
    ):
        page_a = sim.add_page(name="Throttled Page")
        page_b = sim.add_page(name="Flowing Page")
        form_a = sim.add_form(page_a["id"], name="Form A")
        form_b = sim.add_form(page_b["id"], name="Form B")
        token_a, token_b = page_a["access_token"], page_b["access_token"]
        odoo.install_for(
            sim,
            SETUP.format(
                connect_a=page_connection("Throttled", page_a["id"], token_a, "page_a"),
                connect_b=page_connection("Flowing", page_b["id"], token_b, "page_b"),
            ),
        )
        odoo.start(
            "--workers=2", "--max-cron-threads=2", log_file="bench-throttle-odoo.log"
        )
        url = odoo.webhook_url
        session = requests.Session()
        pending = {}
        watcher = Watcher(odoo.database, pending)
        watcher.start()
        # warm-up: both connections work before the throttle
        warm = [send(sim, session, url, f["id"], pending) for f in (form_a, form_b)]
        if not wait_for(watcher, warm, 60):
            raise SystemExit("warm-up leads never arrived: see bench-throttle-odoo.log")

        started = time.time()
        throttle = sim.faults.throttle(
            code=THROTTLE_CODE,
            calls=None,
            regain_minutes=THROTTLE_MINUTES,
            page_id=page_a["id"],
        )
        leads_a, leads_b = [], []
        for second in range(args.seconds):
            target = time.time() - started
            if second > target:
                time.sleep(second - target)
            leads_a.append(send(sim, session, url, form_a["id"], pending))
            leads_b.append(send(sim, session, url, form_b["id"], pending))
        complete = wait_for(watcher, leads_a + leads_b, args.timeout)
        watcher.stop.set()
        watcher.join()
        log = [r for r in sim.requests if r.time >= started and not r.in_batch]

    calls_a = [r for r in log if r.token == token_a]
    calls_b = [r for r in log if r.token == token_b]
    refused = [r for r in calls_a if r.error_code == THROTTLE_CODE]
    first_refusal = refused[0].time if refused else None
    throttle_end = throttle.until
    during_a = [
        r
        for r in calls_a
        if first_refusal is not None and first_refusal < r.time < throttle_end
    ]
    during_b = [r for r in calls_b if started <= r.time < throttle_end]
    resumed = next(
        (r for r in calls_a if r.time >= throttle_end and r.error_code is None), None
    )
    # watcher times are perf_counter based: convert the throttle end to it
    offset = time.perf_counter() - time.time()
    end_perf = throttle_end + offset
    b_done_during = sum(1 for i in leads_b if watcher.seen.get(i, end_perf) < end_perf)
    a_done = [watcher.seen[i] for i in leads_a if i in watcher.seen]
    lost = len(pending) - len(watcher.seen)
    print(
        f"throttle: {THROTTLE_MINUTES * 60} s on Page A (code {THROTTLE_CODE}); "
        f"Meta refused {len(refused)} call(s) of connection A, the first "
        f"{first_refusal - started:.1f} s after the throttle began"
        if first_refusal
        else "throttle: connection A was never refused (no lead reached Meta?)"
    )
    print(
        f"during the throttle: connection A made {len(during_a)} call(s) after the "
        f"refusal; connection B made {len(during_b)} call(s) and "
        f"{b_done_during} of its leads reached the pipeline"
    )
    resume_s = resumed.time - throttle_end if resumed else None
    drained_s = max(a_done) - end_perf if a_done else None
    print(
        f"after the throttle: connection A called again {resume_s:.1f} s after it "
        f"ended; all its {len(leads_a)} leads in the pipeline {drained_s:.1f} s after"
        if resumed and drained_s is not None
        else "after the throttle: connection A was not called again"
    )
    result = {
        "throttle_s": THROTTLE_MINUTES * 60,
        "calls_during_throttle": len(during_a),
        "refused_calls": len(refused),
        "other_calls_during_throttle": len(during_b),
        "other_leads_during_throttle": b_done_during,
        "resume_s": round(resume_s, 1) if resume_s is not None else None,
        "drained_after_s": round(drained_s, 1) if drained_s is not None else None,
        "lost": lost,
        "complete": complete,
    }
    print(json.dumps(result))
    ok = complete and lost == 0 and not during_a and refused and b_done_during
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
