"""``make bench-audiences``: Custom Audiences sync of a real Odoo 18 to the
simulator, at scale.

For each size (10,000 then 100,000 partners by default; 60 % of them
consenting to "Meta advertising audiences", all tagged for the audience):

1. Fresh database with the addon; a system-user connection to the simulator
   with an ad account asset; the partners (with e-mail, phone, names, city,
   country) and their consent decisions, created in batches (not timed).
2. Full sync, timed, in its own ``odoo-bin shell`` process (the Odoo
   worker): ``_meta_sync`` streams the segment into outbox batches, and the
   outbox is drained to the simulator until every batch is confirmed. The
   process's peak RSS is read at the end (``ru_maxrss``).
3. Delta (largest size only): 1 % of the consenting partners change their
   e-mail; another timed sync sends what changed. The simulator's recorded
   ``/users`` requests give the rows Meta received in each phase.

Memory must not grow with the segment: the peak RSS of the full sync at the
largest size is compared with the smallest size's (same run).

Hashing: the core's normalisation + SHA-256 of e-mails against bare
``hashlib`` on the same strings, in this process, same run.

Prints the figures, then one JSON line last:
{"partners", "consenting", "uploaded", "full_sync_s", "changed_rows",
 "delta_rows_sent", "delta_s", "peak_rss_mb", "hash_rows_per_s",
 "hash_ratio_to_hashlib", "peak_rss_mb_small", "small_partners",
 "rss_ratio", "setup_s", "cpu"}

Usage: python tools/bench_audiences.py --odoo PATH [--python PY]
       [--partners 100000] [--small 10000]
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "meta_graph_connector"))

from odoo_harness import OdooHarness, ensure_simulator, sandbox_settings  # noqa: E402

from graph import audience as customer_file  # noqa: E402
from meta_simulator import MetaSimulator  # noqa: E402

APP_ID = "555002"
APP_SECRET = "bench_audiences_secret"
CONSENTING_SHARE = 0.6
CHANGED_SHARE = 0.01
#: partners created per ``odoo-bin shell`` (each run has a 600 s limit)
PER_SHELL = 25_000

SETUP = """
connection = env['meta.connection'].create({{
    'name': 'Bench Ads', 'access_token': {token!r},
}})
account = env['meta.asset'].create({{
    'name': 'Bench Ad Account', 'connection_id': connection.id,
    'asset_type': 'ad_account', 'external_id': {account!r},
}})
tag = env['res.partner.category'].create({{'name': 'Bench Segment'}})
env['meta.audience'].create({{
    'name': 'Bench Audience', 'ad_account_id': account.id,
    'segment': 'tags', 'tag_ids': [(6, 0, tag.ids)],
}})
print('BENCH_TAG', tag.id)
"""

PARTNERS = """
import random
quiet = dict(tracking_disable=True, mail_create_nolog=True,
             mail_create_nosubscribe=True, mail_notrack=True)
Partner = env['res.partner'].with_context(**quiet)
tr = env.ref('base.tr').id
rng = random.Random({start})
cities = ['İstanbul', 'Ankara', 'İzmir', 'Bursa', 'Antalya', 'Şanlıurfa']
names = ['Ayşe', 'Mehmet', 'Işıl', 'Çağrı', 'Gülşen', 'Ömer', 'Ümit', 'İlker']
surnames = ['Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Öztürk', 'Doğan']
for first in range({start}, {stop}, 2000):
    batch = range(first, min(first + 2000, {stop}))
    partners = Partner.create([{{
        'name': f'{{rng.choice(names)}} {{rng.choice(surnames)}} {{n}}',
        'email': f'kisi{{n}}@ornek.com.tr',
        'phone': f'0532 {{n // 10000:03d}} {{n % 10000 // 100:02d}} {{n % 100:02d}}',
        'city': rng.choice(cities),
        'country_id': tr,
        'category_id': [(6, 0, [{tag}])],
    }} for n in batch])
    consenting = partners.filtered(lambda p: rng.random() < {share})
    consenting._meta_record_consent('audiences', True, 'import')
    env.cr.commit()
print('BENCH_PARTNERS', {stop} - {start})
"""

SYNC = """
import json, resource, time
Outbox = env['meta.outbox']
audience = env['meta.audience'].search([], limit=1)
profiler = None
if {profile!r}:
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
started = time.monotonic()
audience._meta_sync()
env.cr.commit()
while True:
    done = Outbox._meta_process_queue(max_items=1000, time_budget=600)
    env.cr.commit()
    if not done and not Outbox.search_count(Outbox._meta_due_domain()):
        break
elapsed = time.monotonic() - started
if profiler:
    import io, pstats
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats('cumulative').print_stats(40)
    print(text.getvalue())
left = Outbox.search_count([('state', '!=', 'done')])
print('BENCH_SYNC ' + json.dumps({{
    'seconds': elapsed,
    'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    'not_done': left,
    'result': audience.last_sync_result,
}}))
"""

CHANGE = """
import random
rng = random.Random(7)
consenting = env['meta.consent'].search(
    [('purpose', '=', 'audiences'), ('state', '=', 'granted')]
).partner_id
changed = consenting.browse(rng.sample(consenting.ids, {count}))
for partner in changed:
    partner.email = partner.email.replace('@', '.yeni@')
env.cr.commit()
print('BENCH_CHANGED', len(changed))
"""


def marker(output, name):
    for line in output.splitlines():
        if line.startswith(name + " "):
            return line[len(name) + 1 :]
    raise SystemExit(f"{name} missing from the shell output:\n{output[-3000:]}")


def rows_received(sim, since=0):
    """Rows Meta received in ``/users`` uploads, requests ``since`` onwards."""
    total = 0
    for request in list(sim.requests)[since:]:
        if request.method == "POST" and request.path.endswith("/users"):
            if request.status == 200:
                payload = request.json_param("payload") or {}
                total += len(payload.get("data") or [])
    return total


def run_size(odoo_path, python, partners, delta, profile=False):
    sim = MetaSimulator(seed=11, app_id=APP_ID, app_secret=APP_SECRET)
    sim.start()
    try:
        account = sim.add_ad_account("Bench Reklam")
        token = sim.add_user_token(
            scopes=["ads_management", "business_management"],
            token_type="SYSTEM_USER",
            ad_accounts=[account["id"]],
        )
        with OdooHarness(odoo_path, python) as odoo:
            started = time.monotonic()
            odoo.install()
            out = odoo.shell(
                sandbox_settings(APP_ID, APP_SECRET, sim.base_url)
                + SETUP.format(token=token, account=account["id"])
            )
            tag = int(marker(out, "BENCH_TAG"))
            for start in range(0, partners, PER_SHELL):
                odoo.shell(
                    PARTNERS.format(
                        start=start,
                        stop=min(start + PER_SHELL, partners),
                        tag=tag,
                        share=CONSENTING_SHARE,
                    )
                )
            setup_s = time.monotonic() - started
            consenting = int(
                marker(
                    odoo.shell(
                        "print('BENCH_CONSENTING', env['meta.consent'].search_count("
                        "[('purpose', '=', 'audiences'), ('state', '=', 'granted')]))"
                    ),
                    "BENCH_CONSENTING",
                )
            )
            print(f"[{partners}] setup {setup_s:.0f} s, {consenting} consenting")
            mark = len(sim.requests)
            output = odoo.shell(SYNC.format(profile=profile))
            if profile:
                print(output)
            full = json.loads(marker(output, "BENCH_SYNC"))
            uploaded = rows_received(sim, mark)
            print(
                f"[{partners}] full sync {full['seconds']:.1f} s, {uploaded} rows "
                f"at Meta, peak RSS {full['peak_rss_mb']:.0f} MB, "
                f"outbox not done: {full['not_done']}"
            )
            figures = {
                "partners": partners,
                "consenting": consenting,
                "uploaded": uploaded,
                "full_sync_s": round(full["seconds"], 2),
                "peak_rss_mb": round(full["peak_rss_mb"], 1),
                "setup_s": round(setup_s, 1),
                "at_meta": len(sim.audience_members(sim.audience_ids()[0])),
            }
            if delta:
                count = max(1, int(consenting * CHANGED_SHARE))
                changed = int(
                    marker(odoo.shell(CHANGE.format(count=count)), "BENCH_CHANGED")
                )
                mark = len(sim.requests)
                again = json.loads(
                    marker(odoo.shell(SYNC.format(profile=False)), "BENCH_SYNC")
                )
                figures.update(
                    changed_rows=changed,
                    delta_rows_sent=rows_received(sim, mark),
                    delta_s=round(again["seconds"], 2),
                    delta_peak_rss_mb=round(again["peak_rss_mb"], 1),
                )
                print(
                    f"[{partners}] delta: {changed} changed, "
                    f"{figures['delta_rows_sent']} rows sent "
                    f"in {again['seconds']:.1f} s"
                )
            return figures
    finally:
        sim.stop()


def hash_figures(count=200_000):
    emails = [f"  Kisi.{n}@Ornek.COM.tr " for n in range(count)]
    started = time.perf_counter()
    for value in emails:
        customer_file.hash_value("EMAIL", customer_file.normalize("EMAIL", value))
    core = time.perf_counter() - started
    started = time.perf_counter()
    for value in emails:
        hashlib.sha256(value.encode()).hexdigest()
    bare = time.perf_counter() - started
    return count / core, core / bare


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo", required=True, help="Odoo 18.0 source tree")
    parser.add_argument("--python", default=None, help="Python with Odoo's deps")
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument(
        "--profile", action="store_true", help="print a profile of the full sync"
    )
    args = parser.parse_args()
    python = args.python or sys.executable
    ensure_simulator(python)
    rows_per_s, ratio = hash_figures()
    print(f"hashing: {rows_per_s:,.0f} e-mails/s, {ratio:.2f}x bare hashlib")
    small = run_size(args.odoo, python, args.small, delta=False)
    if args.profile:
        run_size(args.odoo, python, args.partners, delta=False, profile=True)
        return
    large = run_size(args.odoo, python, args.partners, delta=True)
    result = {
        "partners": large["partners"],
        "consenting": large["consenting"],
        "uploaded": large["uploaded"],
        "full_sync_s": large["full_sync_s"],
        "changed_rows": large["changed_rows"],
        "delta_rows_sent": large["delta_rows_sent"],
        "delta_s": large["delta_s"],
        "peak_rss_mb": large["peak_rss_mb"],
        "hash_rows_per_s": round(rows_per_s),
        "hash_ratio_to_hashlib": round(ratio, 2),
        "peak_rss_mb_small": small["peak_rss_mb"],
        "small_partners": small["partners"],
        "rss_ratio": round(large["peak_rss_mb"] / small["peak_rss_mb"], 3),
        "small_full_sync_s": small["full_sync_s"],
        "at_meta": large["at_meta"],
        "setup_s": large["setup_s"],
        "cpu": f"{os.cpu_count()} x {cpu_name()}",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
