"""``make bench-inbox``: a Messenger message's way from Meta's webhook into
an agent's Discuss, and an agent's answer's way to Meta's Send API, on a
real Odoo (18.0 or 19.0).

1. Fresh database with the addon, a sandbox connection to the simulator's
   Page (``pages_messaging``), an inbox team with one agent (online).
2. Floor, measured in the same run: a message posted in a Discuss group
   channel and committed, as an ``odoo-bin shell`` does it.
3. Odoo serves HTTP with 2 workers plus 2 cron workers. N Messenger
   messages are sent at R per second by N/5 customers (each writes five
   times; the first message of each opens their conversation), every tenth
   webhook delivered twice (Meta retries). For each message, the time from
   the webhook POST to the moment another database connection sees it
   committed in its conversation *with* its ``discuss.channel/new_message``
   bus notification (what makes the agent's Discuss show it) is recorded,
   polled every 10 ms.
4. The agent, logged in, answers S of the customers through Discuss's own
   ``/mail/message/post``; the time from that request to the simulator
   receiving the Send API call is recorded (polled every 5 ms).

Prints the figures, then one JSON line last:
{"n", "rate", "p50_ms", "p95_ms", "p99_ms", "send_p50_ms", "send_p95_ms",
 "floor_ms", "ratio_p95_floor", "lost", "duplicated", "sends", "send_lost"}

Usage: python tools/bench_inbox.py --odoo PATH [--python PY] [--n 200]
       [--rate 5] [--sends 40]
"""

import json
import statistics
import sys
import time
from pathlib import Path

import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_leads import Watcher, latency_figures, percentile  # noqa: E402
from odoo_harness import (  # noqa: E402
    OdooHarness,
    bench_parser,
    marker_json,
    page_connection,
    post_signed,
)

from meta_simulator import MetaSimulator, payloads  # noqa: E402

APP_ID = "555004"
APP_SECRET = "bench_inbox_secret"
AGENT_LOGIN = "bench_agent"
SCOPES = "pages_show_list,pages_manage_metadata,pages_read_engagement,pages_messaging"

SETUP = """
import json, time
from odoo.addons.meta_graph_connector import series
{connect}connection.granted_scopes = {scopes!r}
Users = env['res.users']
agent = Users.create(series.xml_values(Users, {{
    'name': 'Bench Agent', 'login': {login!r}, 'password': {login!r},
    'groups_id': [(4, env.ref('sales_team.group_sale_salesman').id)],
}}))
# online, as with their Discuss open: conversations go to them
env[series.PRESENCE_MODEL].create({{'user_id': agent.id, 'status': 'online'}})
team = env['crm.team'].create(
    {{'name': 'Bench Inbox', 'member_ids': [(6, 0, agent.ids)]}}
)
page.inbox_team_id = team
page.inbox_import_days = 0
env.cr.commit()
floor_ms = []
group = env['discuss.channel'].create({{'name': 'Floor', 'channel_type': 'group'}})
env.cr.commit()
for n in range(20):
    t0 = time.perf_counter()
    group.message_post(body=f'Merhaba {{n}}', message_type='comment')
    env.cr.commit()
    floor_ms.append((time.perf_counter() - t0) * 1000)
print('BENCH_SETUP ' + json.dumps({{'floor_ms': floor_ms}}))
"""

#: Messages committed in their conversation with their Discuss bus
#: notification, among ``%s`` (Meta message ids).
SEEN = """SELECT m.meta_mid FROM mail_message m
           WHERE m.meta_mid = ANY(%s)
             AND EXISTS (
                 SELECT 1 FROM bus_bus b
                  WHERE b.channel = '["{db}","discuss.channel",' || m.res_id || ']'
                    AND b.message LIKE '{{"type":"discuss.channel/new_message"%%'
                    AND strpos(b.message, '"id":' || m.id || ',') > 0)"""


def psid(index):
    return str(24900000000000000 + index)


def login(session, odoo):
    answer = session.post(
        f"{odoo.url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {
                "db": odoo.database,
                "login": AGENT_LOGIN,
                "password": AGENT_LOGIN,
            },
        },
        timeout=60,
    )
    answer.raise_for_status()
    if answer.json().get("error"):
        raise SystemExit(f"agent login failed: {answer.json()['error']}")


def channel_of(database, customer):
    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute(
            """SELECT c.id FROM discuss_channel c
                 JOIN meta_social_contact p ON p.id = c.meta_contact_id
                WHERE p.scoped_id = %s""",
            [customer],
        )
        row = cr.fetchone()
        return row[0] if row else None


def measure_sends(sim, odoo, page_id, customers, timeout):
    """The agent answers each customer through Discuss; the time until the
    simulator has the Send API call, per answer."""
    session = requests.Session()
    login(session, odoo)
    latencies, lost = [], 0
    for index, customer in enumerate(customers):
        channel_id = channel_of(odoo.database, customer)
        text = f"Hemen yardımcı oluyoruz ({index})"
        started = time.perf_counter()
        answer = session.post(
            f"{odoo.url}/mail/message/post",
            json={
                "jsonrpc": "2.0",
                "params": {
                    "thread_model": "discuss.channel",
                    "thread_id": channel_id,
                    "post_data": {
                        "body": text,
                        "message_type": "comment",
                        "subtype_xmlid": "mail.mt_comment",
                    },
                },
            },
            timeout=60,
        )
        if answer.json().get("error"):
            raise SystemExit(
                f"post refused: {answer.json()['error']['data']['message']}"
            )
        deadline = started + timeout
        while time.perf_counter() < deadline:
            sent = sim.conversation(page_id, customer)["messages"]
            if any(m.get("text") == text for m in sent):
                latencies.append((time.perf_counter() - started) * 1000)
                break
            time.sleep(0.005)
        else:
            lost += 1
        time.sleep(0.5)
    return latencies, lost


def main():
    parser = bench_parser(__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--sends", type=int, default=40)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()

    with (
        MetaSimulator(seed=6, app_id=APP_ID, app_secret=APP_SECRET) as sim,
        OdooHarness(args.odoo, args.python) as odoo,
    ):
        page = sim.add_page(name="Bench Inbox Page")
        output = odoo.install_for(
            sim,
            SETUP.format(
                connect=page_connection(
                    "Bench Inbox Page", page["id"], page["access_token"]
                ),
                scopes=SCOPES,
                login=AGENT_LOGIN,
            ),
        )
        setup = marker_json(output)
        floor_ms = statistics.median(setup["floor_ms"])
        print(
            f"floor: a Discuss message posted + commit {floor_ms:.1f} ms (median of 20)"
        )
        odoo.start(
            "--workers=2", "--max-cron-threads=2", log_file="bench-inbox-odoo.log"
        )
        url = odoo.webhook_url
        session = requests.Session()
        pending = {}
        watcher = Watcher(odoo.database, pending, query=SEEN.format(db=odoo.database))
        watcher.start()
        # warm-up: the first request of each worker loads the registry
        for index in range(4):
            mid = sim.receive_dm(
                page["id"], psid(90000 + index), "ısınma", deliver=False
            )
            body = sim.webhooks.encode(
                payloads.messenger_message(
                    page["id"], psid(90000 + index), mid["mid"], "ısınma"
                )
            )
            post_signed(session, url, body, sim.webhooks.sign(body, APP_SECRET))
        time.sleep(3)

        interval = 1.0 / args.rate
        people = max(1, args.n // 5)
        started = time.perf_counter()
        statuses, retried = [], 0
        for index in range(args.n):
            target = started + index * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            customer = psid(index % people)
            text = f"Merhaba, fiyat alabilir miyim? ({index})"
            sent = sim.receive_dm(page["id"], customer, text, deliver=False)
            delivery = payloads.messenger_message(
                page["id"], customer, sent["mid"], text, None, int(time.time() * 1000)
            )
            body = sim.webhooks.encode(delivery)
            pending[sent["mid"]] = time.perf_counter()
            response = post_signed(
                session, url, body, sim.webhooks.sign(body, APP_SECRET)
            )
            statuses.append(response.status_code)
            if index % 10 == 0:
                post_signed(session, url, body, sim.webhooks.sign(body, APP_SECRET))
                retried += 1
        deadline = time.perf_counter() + args.timeout
        while len(watcher.seen) < len(pending) and time.perf_counter() < deadline:
            time.sleep(0.05)
        watcher.stop.set()
        watcher.join()
        with psycopg2.connect(dbname=odoo.database) as conn, conn.cursor() as cr:
            cr.execute(
                """SELECT count(*) - count(DISTINCT meta_mid)
                     FROM mail_message WHERE meta_mid = ANY(%s)""",
                [list(pending)],
            )
            duplicated = cr.fetchone()[0]
            cr.execute(
                "SELECT count(*) FROM discuss_channel WHERE channel_type = 'meta'"
            )
            conversations = cr.fetchone()[0]
        customers = [psid(i) for i in range(min(args.sends, people))]
        send_ms, send_lost = measure_sends(
            sim, odoo, page["id"], customers, args.timeout
        )

    figures = latency_figures(watcher, floor_ms)
    lost = figures["lost"]
    print(
        f"sent {args.n} Messenger webhooks at {args.rate}/s from {people} customers "
        f"(+{retried} retried deliveries), statuses {sorted(set(statuses))}, "
        f"{figures.pop('seen')} messages in Discuss with their bus notification, "
        f"{conversations} conversations"
    )
    print(
        f"agent answers: {len(send_ms)} of {len(customers)} reached the Send API, "
        f"p50 {percentile(send_ms, 0.5):.1f} ms, p95 {percentile(send_ms, 0.95):.1f} ms"
        if send_ms
        else "agent answers: none reached the Send API"
    )
    result = {
        "n": args.n,
        "rate": args.rate,
        **figures,
        "send_p50_ms": round(percentile(send_ms, 0.5), 1) if send_ms else None,
        "send_p95_ms": round(percentile(send_ms, 0.95), 1) if send_ms else None,
        "sends": len(customers),
        "send_lost": send_lost,
        "duplicated": duplicated,
    }
    print(json.dumps(result))
    return 0 if lost == 0 and duplicated == 0 and send_lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
