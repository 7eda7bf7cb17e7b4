"""``make bench-audiences``: Custom Audiences sync of a real Odoo (18.0 or
19.0) to the simulator, at scale.

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

PostgreSQL's statistics: once the data is made, and again before the delta,
the database gets ``VACUUM (ANALYZE)``, as autovacuum does after bulk
inserts in production (``--no-analyze`` skips it: on a server with
autovacuum off, or right after an import, the planner believes
``res_partner`` is nearly empty and the sync's paging scans the whole segment
for each page).

Memory must not grow with the segment: the peak RSS of the full sync at the
largest size is compared with the smallest size's (same run).

Hashing: the core's normalisation + SHA-256 (``normalize`` then
``hash_value``, per key) of 200,000 strings, half e-mails and half phone
numbers as people type them, against bare ``hashlib.sha256`` on the same
strings, in this process, same run (the floor).

Prints the figures, then one JSON line last:
{"partners", "consenting", "uploaded", "full_sync_s", "changed_rows",
 "delta_rows_sent", "delta_s", "peak_rss_mb", "hash_rows_per_s",
 "hash_ratio_to_hashlib", "peak_rss_mb_10k", "rss_ratio_100k_to_10k",
 "small_partners", ...} (``_10k`` is the ``--small`` size, ``100k`` the
``--partners`` one).

The databases are named ``bench_aud_<pid>_<partners>`` and dropped at the
end unless ``--keep``.

Usage: python tools/bench_audiences.py --odoo PATH [--python PY]
       [--partners 100000] [--small 10000] [--keep]
"""

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

import psycopg2  # noqa: E402
from odoo_harness import (  # noqa: E402
    OdooHarness,
    bench_parser,
    ensure_simulator,
    marker,
)

from graph import audience  # noqa: E402
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
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
    'rss_before_mb': rss_before,
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


def rows_received(sim, since=0):
    """Rows Meta accepted in ``/users`` requests ``since`` onwards:
    {"POST": added or updated, "DELETE": removed, "requests": n}."""
    totals = {"POST": 0, "DELETE": 0, "requests": 0}
    for request in sim.requests[since:]:
        if request.path.endswith("/users") and request.status == 200:
            payload = request.json_param("payload") or {}
            totals[request.method] = totals.get(request.method, 0) + len(
                payload.get("data") or []
            )
            totals["requests"] += 1
    return totals


def vacuum_analyze(database):
    """What autovacuum does after bulk inserts: fresh planner statistics
    (and the visibility map). Returns the server's autovacuum setting."""
    connection = psycopg2.connect(dbname=database)
    try:
        connection.autocommit = True
        with connection.cursor() as cr:
            cr.execute("SHOW autovacuum")
            setting = cr.fetchone()[0]
            # only the tables of the bench's role (catalogs shared by all
            # databases need a superuser: skipped with a notice)
            cr.execute("VACUUM (ANALYZE)")
        return setting
    finally:
        connection.close()


def run_size(
    odoo_path, python, partners, delta, profile=False, keep=False, analyze=True
):
    sim = MetaSimulator(seed=11, app_id=APP_ID, app_secret=APP_SECRET)
    sim.start()
    try:
        account = sim.add_ad_account("Bench Reklam")
        token = sim.add_user_token(
            scopes=["ads_management", "business_management"],
            token_type="SYSTEM_USER",
            ad_accounts=[account["id"]],
        )
        odoo = OdooHarness(
            odoo_path, python, database=f"bench_aud_{os.getpid()}_{partners}"
        )
        try:
            started = time.monotonic()
            out = odoo.install_for(
                sim, SETUP.format(token=token, account=account["id"])
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
            autovacuum = vacuum_analyze(odoo.database) if analyze else "not run"
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
            print(
                f"[{partners}] setup {setup_s:.0f} s, {consenting} consenting "
                f"(server autovacuum: {autovacuum}; VACUUM (ANALYZE) after the "
                f"setup: {'yes' if analyze else 'no'})"
            )
            mark = len(sim.requests)
            output = odoo.shell(SYNC.format(profile=profile))
            if profile:
                print(output)
            full = json.loads(marker(output, "BENCH_SYNC"))
            received = rows_received(sim, mark)
            uploaded = received["POST"]
            print(
                f"[{partners}] full sync {full['seconds']:.1f} s: {uploaded} rows "
                f"received by Meta in {received['requests']} requests, peak RSS "
                f"{full['peak_rss_mb']:.0f} MB (after loading Odoo, before the "
                f"sync: {full['rss_before_mb']:.0f} MB), outbox not done: "
                f"{full['not_done']}; {full['result']}"
            )
            figures = {
                "partners": partners,
                "consenting": consenting,
                "uploaded": uploaded,
                "full_sync_s": round(full["seconds"], 2),
                "peak_rss_mb": round(full["peak_rss_mb"], 1),
                "rss_before_mb": round(full["rss_before_mb"], 1),
                "not_done": full["not_done"],
                "setup_s": round(setup_s, 1),
                "at_meta": len(sim.audience_members(sim.audience_ids()[0])),
            }
            if delta:
                count = max(1, int(consenting * CHANGED_SHARE))
                changed = int(
                    marker(odoo.shell(CHANGE.format(count=count)), "BENCH_CHANGED")
                )
                if analyze:
                    vacuum_analyze(odoo.database)
                mark = len(sim.requests)
                again = json.loads(
                    marker(odoo.shell(SYNC.format(profile=False)), "BENCH_SYNC")
                )
                sent = rows_received(sim, mark)
                figures.update(
                    changed_rows=changed,
                    delta_rows_sent=sent["POST"],
                    delta_rows_removed=sent["DELETE"],
                    delta_s=round(again["seconds"], 2),
                    delta_peak_rss_mb=round(again["peak_rss_mb"], 1),
                    delta_not_done=again["not_done"],
                )
                print(
                    f"[{partners}] delta: {changed} partners changed their "
                    f"e-mail, {sent['POST']} rows added/updated and "
                    f"{sent['DELETE']} removed at Meta in {sent['requests']} "
                    f"requests, {again['seconds']:.1f} s; {again['result']}"
                )
            return figures
        finally:
            if keep:
                odoo.stop()
                print(f"database kept: {odoo.database}")
            else:
                odoo.drop()
    finally:
        sim.stop()


def hash_figures(count=200_000):
    """The core's normalise + hash per key against bare ``hashlib`` on the
    same strings: {kind: (core seconds, hashlib seconds, rows)}."""
    half = count // 2
    values = {
        "EMAIL": [f"  Kisi.{n}@Ornek.COM.tr " for n in range(half)],
        "PHONE": [
            f"0532 {n // 10000:03d} {n % 10000 // 100:02d} {n % 100:02d}"
            for n in range(count - half)
        ],
    }
    figures = {}
    for key, strings in values.items():
        started = time.perf_counter()
        for value in strings:
            audience.hash_value(key, audience.normalize(key, value, country="TR"))
        core = time.perf_counter() - started
        started = time.perf_counter()
        for value in strings:
            hashlib.sha256(value.encode()).hexdigest()
        bare = time.perf_counter() - started
        figures[key] = (core, bare, len(strings))
    return figures


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases (bench_aud_*)"
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="no VACUUM (ANALYZE) after the setup: planner statistics as left "
        "by the import (stale when the server's autovacuum is off)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a profile of the full sync"
    )
    args = parser.parse_args()
    python = args.python or sys.executable
    ensure_simulator(python)
    hashing = hash_figures()
    for key, (core, bare, rows) in hashing.items():
        print(
            f"hashing {key}: {rows / core:,.0f} rows/s normalised + hashed by the "
            f"core, {rows / bare:,.0f} rows/s bare hashlib ({core / bare:.1f}x)"
        )
    core = sum(core for core, _bare, _rows in hashing.values())
    bare = sum(bare for _core, bare, _rows in hashing.values())
    rows = sum(rows for _core, _bare, rows in hashing.values())
    print(
        f"hashing, e-mails and phones: {rows / core:,.0f} rows/s, "
        f"{core / bare:.1f}x bare hashlib's time"
    )
    options = {"keep": args.keep, "analyze": args.analyze}
    small = run_size(args.odoo, python, args.small, delta=False, **options)
    if args.profile:
        run_size(
            args.odoo,
            python,
            args.partners,
            delta=False,
            profile=True,
            **options,
        )
        return 0
    large = run_size(args.odoo, python, args.partners, delta=True, **options)
    rss_ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(
        f"memory: peak RSS {small['peak_rss_mb']:.0f} MB at {args.small} partners, "
        f"{large['peak_rss_mb']:.0f} MB at {args.partners} "
        f"(x{rss_ratio:.3f}; target <= x1.10)"
    )
    print(
        f"targets: full sync {large['full_sync_s']:.1f} s (<= 30 s), delta "
        f"{large['delta_rows_sent']} rows sent for {large['changed_rows']} changed"
    )
    result = {
        "partners": large["partners"],
        "consenting": large["consenting"],
        "uploaded": large["uploaded"],
        "full_sync_s": large["full_sync_s"],
        "changed_rows": large["changed_rows"],
        "delta_rows_sent": large["delta_rows_sent"],
        "delta_s": large["delta_s"],
        "peak_rss_mb": large["peak_rss_mb"],
        "hash_rows_per_s": round(rows / core),
        "hash_ratio_to_hashlib": round(core / bare, 2),
        "peak_rss_mb_10k": small["peak_rss_mb"],
        "rss_ratio_100k_to_10k": round(rss_ratio, 3),
        "small_partners": small["partners"],
        "small_consenting": small["consenting"],
        "small_uploaded": small["uploaded"],
        "small_full_sync_s": small["full_sync_s"],
        "rss_before_sync_mb": large["rss_before_mb"],
        "delta_rows_removed": large["delta_rows_removed"],
        "not_done": large["not_done"] + large["delta_not_done"],
        "hash_email_rows_per_s": round(hashing["EMAIL"][2] / hashing["EMAIL"][0]),
        "hash_email_ratio": round(hashing["EMAIL"][0] / hashing["EMAIL"][1], 2),
        "hash_phone_rows_per_s": round(hashing["PHONE"][2] / hashing["PHONE"][0]),
        "hash_phone_ratio": round(hashing["PHONE"][0] / hashing["PHONE"][1], 2),
        "at_meta": large["at_meta"],
        "setup_s": large["setup_s"],
        "vacuum_analyze": args.analyze,
        "cpu": f"{os.cpu_count()} x {cpu_name()}",
    }
    print(json.dumps(result))
    ok = (
        result["uploaded"] == result["consenting"]
        and result["delta_rows_sent"] == result["changed_rows"]
        and result["not_done"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
