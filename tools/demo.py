"""``make demo``: watch Meta leads arrive in Odoo's pipeline, no Meta app needed.

Starts the Meta simulator and an Odoo 18 you already have on a fresh demo
database with the addon installed and a sandbox connection configured the
way an administrator would (System User token pasted in "Connect Pages"),
then keeps submitting a realistic lead every few seconds: the simulator sends
Meta's signed leadgen webhook and Odoo turns it into an assigned opportunity
with a call activity. Ctrl-C stops both; the database is kept.

Usage: python tools/demo.py --odoo PATH [--python PY] [--port 8069]
       [--interval 5] [--database meta_demo]
"""

import argparse
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from odoo_harness import OdooHarness, sandbox_settings

from meta_simulator import MetaSimulator

APP_ID = "100200300400500"
APP_SECRET = "demo_app_secret"
VERIFY_TOKEN = "demo-verify-token"

SETUP = """
env['ir.config_parameter'].sudo().set_param('web.base.url', {odoo_url!r})
admin = env.ref('base.user_admin')
Connect = env['meta.connect.wizard'].with_user(admin)
wizard = Connect.create({{'access_token': {token!r}}})
connection = env['meta.connection'].browse(wizard.action_connect()['res_id'])
page = connection.asset_ids.filtered(lambda a: a.external_id == {page_id!r})
forms = env['meta.lead.form']._meta_sync_forms(page)
team = env['crm.team'].search([], limit=1)
forms.write({{'user_id': admin.id, 'team_id': team.id, 'lead_type': 'opportunity'}})
for form in forms:
    env['meta.lead.sync']._meta_sync_form(form)
print('DEMO_READY', connection.state, len(forms), env['crm.lead'].search_count([]))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--odoo", required=True)
    parser.add_argument("--python", default=None)
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--sim-port", type=int, default=0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--database", default="meta_demo")
    parser.add_argument(
        "--count", type=int, default=0, help="stop after this many leads (0: never)"
    )
    args = parser.parse_args()

    sim = MetaSimulator(
        seed=2026, app_id=APP_ID, app_secret=APP_SECRET, port=args.sim_port
    ).start()
    odoo = OdooHarness(
        args.odoo, args.python, database=args.database, http_port=args.port
    )
    subprocess.run(["dropdb", "--if-exists", args.database], check=False)
    page = sim.add_page(name="Anadolu Mobilya", ig_account_id=True)
    token = sim.add_user_token(pages=[page["id"]], token_type="SYSTEM_USER")
    forms = [
        sim.add_form(page["id"], name="Kış Kampanyası – Teklif Formu"),
        sim.add_form(page["id"], name="Instagram – Showroom Randevusu"),
    ]
    now = time.time()
    for form in forms:  # a little history for the backfill to import
        sim.add_leads(form["id"], 8, start=now - 10 * 86400, end=now - 3600)
    print(f"Meta simulator: {sim.base_url}")
    print(f"Installing meta_graph_connector in a fresh database '{args.database}'…")
    odoo.install()
    output = odoo.shell(
        sandbox_settings(APP_ID, APP_SECRET, sim.base_url, verify_token=VERIFY_TOKEN)
        + SETUP.format(
            odoo_url=odoo.url,
            token=token,
            page_id=page["id"],
        )
    )
    print(next(line for line in output.splitlines() if "DEMO_READY" in line))
    odoo.start("--workers=2", "--max-cron-threads=2", log_file="demo-odoo.log")
    # the Page's webhook subscription waits in the outbox, queued by the setup
    # before the server ran: wake the crons so Meta sends leads from the start
    if not odoo.wait_for(
        "SELECT count(*) FROM meta_outbox WHERE state IN ('pending', 'failed')"
    ):
        print("The Page's webhook subscription is still queued: see demo-odoo.log")
    # Meta's subscription handshake against Odoo (raises if Odoo refuses it)
    sim.set_callback(
        f"{odoo.url}/meta/webhook", VERIFY_TOKEN, fields=["leadgen"], verify=True
    )
    print("Webhook handshake with Odoo: accepted")
    print(
        f"\nOpen {odoo.url}/odoo/crm (login admin / admin) and watch the "
        f"pipeline: a lead arrives every {args.interval:g} s. Ctrl-C to stop.\n"
    )
    rng = random.Random(7)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    sent = 0
    try:
        while not stopping and (not args.count or sent < args.count):
            form = rng.choice(forms)
            lead = sim.submit_lead(form["id"], platform=rng.choice(["fb", "fb", "ig"]))
            sent += 1
            name = next(
                (
                    f["values"][0]
                    for f in lead["field_data"]
                    if f["name"] == "full_name"
                ),
                lead["id"],
            )
            print(f"{time.strftime('%H:%M:%S')}  lead {sent}: {name} → {form['name']}")
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        odoo.stop()
        sim.stop()
        print(f"\nStopped. The database '{args.database}' is kept.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
