"""``make demo``: watch Meta's customers reach Odoo, no Meta app needed.

One command on a fresh machine. What is missing is fetched or made once, in
folders of this repository that git ignores, and reused afterwards:

- Odoo 18.0 or 19.0: ``--odoo PATH`` (``ODOO=``) when given, else a shallow
  clone of Odoo's official repository in ``.odoo-src/``, branch 18.0
  (``--odoo-git-url`` / ``ODOO_GIT_URL``, ``--odoo-branch`` / ``ODOO_BRANCH``:
  another URL, a mirror or a local clone, ``19.0`` for Odoo 19.0; an empty
  branch takes the repository's default one);
- Odoo's Python: ``--python PY`` (``ODOO_PYTHON=``), else ``.odoo-venv/``
  made by ``tools/odoo_venv.py`` from the tree's requirements, as
  ``make test-odoo`` does; this repository is installed in it
  (``pip install -e .``);
- PostgreSQL: the one the ``PG*`` variables point at when it answers, else a
  private cluster in ``.demo-pg/`` (Unix socket only, no TCP), started for
  the demo and stopped when it ends;
- Odoo's data files and logs: ``.demo/``.

Then it starts the Meta simulator and Odoo (multi-threaded: the browser's
websocket for live notifications is served on the HTTP port) on the demo
database with the addon installed, makes the company a Turkish furniture
business (Turkish lira, Turkish), configures a sandbox connection the way an
administrator would (System User token pasted in "Connect to Meta": the Page,
its Instagram account, an ad account and its dataset), assigns the forms'
leads and the inbox to a Turkish-speaking demo salesperson, and shows the
four capabilities with Turkish customers, a round every few seconds:

- Lead Ads: a form submitted (Meta's signed ``leadgen`` webhook), an assigned
  opportunity with a call activity and a live notification;
- comments: one on the Page's post, one on the Instagram media, on the
  person's card (and their lead);
- conversations: a Messenger and an Instagram Direct message, in Discuss;
- audiences and Conversion Leads: the people who ticked the forms' consent
  boxes in a Custom Audience synced to the ad account, the stages their
  leads reach told to the dataset (two imported leads moved on already).

Ctrl-C stops everything; the database is kept.

The demo never drops a database it did not create (it marks its own with a
PostgreSQL comment): an existing one is dropped only when the person at the
terminal says so, or kept with ``--reuse``.

Usage: python3 tools/demo.py [--odoo PATH] [--python PY] [--port 8069]
       [--database meta_demo] [--reuse] [--interval 5] [--count N rounds]

Exit status: 0, 1 when a step fails, 2 when a prerequisite is missing or a
database is in the way (one sentence says what to do).
"""

import argparse
import base64
import contextlib
import hashlib
import io
import os
import pwd
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import odoo_venv
from odoo_harness import (
    ADDON,
    REPO,
    SUPPORTED_SERIES,
    OdooHarness,
    ensure_simulator,
    odoo_series,
    sandbox_settings,
    series_label,
)

APP_ID = "100200300400500"
APP_SECRET = "demo_app_secret"
VERIFY_TOKEN = "demo-verify-token"
OFFICIAL_GIT_URL = "https://github.com/odoo/odoo"
OFFICIAL_BRANCH = "18.0"
SALES_LOGIN = "demo.sales"
SALES_LANG = "tr_TR"
COMPANY = "Anadolu Mobilya"
CURRENCY = "TRY"
#: The forms' consent checkboxes (``custom_disclaimer_responses``) and the
#: purpose an administrator maps each to.
CONSENTS = (
    ("reklam_izni", "Kampanyalarınızı Facebook ve Instagram'da görmek istiyorum.",
     "audiences"),
    ("olcum_izni", "Başvurumun reklam ölçümü için Meta ile paylaşılmasını kabul "
     "ediyorum.", "measurement"),
)  # fmt: skip
#: What the Page and its Instagram account posted, people comment under it.
POST_TEXT = (
    "Kış kampanyası başladı: köşe koltuk takımlarında %20 indirim, İstanbul ve "
    "Ankara'ya ücretsiz teslimat."
)
MEDIA_CAPTION = "Yeni sezon yemek masaları showroom'umuzda. Hangisi sizin tarzınız?"
#: Turkish customers: (name, Instagram username, what they write).
FACEBOOK_COMMENTS = (
    ("Işıl Çakır", "Köşe koltuğun fiyatı nedir? Ankara'ya teslimat var mı?"),
    ("Mehmet Öztürk", "Kampanya hafta sonu da geçerli mi?"),
    ("Gülşen Aydın", "Kumaş seçenekleri neler, leke tutmayan var mı?"),
)
INSTAGRAM_COMMENTS = (
    ("zeynep.arslan", "Bu masanın ölçüleri nedir? 6 kişilik mi?"),
    ("can.yildiz", "Ceviz renginden stokta var mı?"),
    ("ece.kaya", "Taksit seçeneği var mı?"),
)
MESSENGER_MESSAGES = (
    ("Ayşe Demir", "Showroom'a cumartesi gelebilir miyim? Saat kaçta açıksınız?"),
    ("Burak Şahin", "Siparişimin teslim tarihini öğrenebilir miyim?"),
    ("Derya Koç", "Köşe takımın ölçülerini gönderebilir misiniz?"),
)  # fmt: skip
INSTAGRAM_MESSAGES = (
    ("elif.sahin", "Elif Şahin", "Gördüğüm masanın fiyatını öğrenebilir miyim?"),
    ("onur.celik", "Onur Çelik", "İzmir'e gönderim yapıyor musunuz?"),
    ("selin.ozkan", "Selin Özkan", "Sandalyeler ayrı satılıyor mu?"),
)  # fmt: skip

ODOO_SRC = REPO / ".odoo-src"
ODOO_VENV = REPO / ".odoo-venv"
DEMO_DIR = REPO / ".demo"
PG_DIR = REPO / ".demo-pg"
LOG = DEMO_DIR / "demo.log"
#: The PostgreSQL comment that marks a database this demo created.
DB_MARK = "Created by meta_graph_connector's demo (tools/demo.py)"
#: The role of the private cluster (Odoo refuses ``postgres``).
PG_ROLE = "odoo"
PG_PORT = "5432"

SETUP = """
env['ir.config_parameter'].sudo().set_param('web.base.url', {odoo_url!r})
# made-up people: nothing to send to Odoo's lead enrichment service (IAP)
env['ir.config_parameter'].sudo().set_param('crm.iap.lead.enrich.setting', 'manual')
# Turkish, as an administrator adds it (Settings > Languages > Add)
lang = env['res.lang'].with_context(active_test=False).search(
    [('code', '=', {lang!r})])
env['base.language.install'].create({{'lang_ids': [(6, 0, lang.ids)]}}).lang_install()
# a Turkish business: its amounts in Turkish lira, its language Turkish (what
# Odoo writes for nobody in particular, a comment on a card, speaks it)
company = env.company
currency = env['res.currency'].with_context(active_test=False).search(
    [('name', '=', {currency!r})])
currency.active = True
company.write({{'name': {company!r}, 'country_id': env.ref('base.tr').id,
               'currency_id': currency.id}})
company.partner_id.lang = {lang!r}
team = env['crm.team'].search([], limit=1)
Users = env['res.users'].with_context(active_test=False, no_reset_password=True)
sales = Users.search([('login', '=', {login!r})], limit=1)
# a user's groups: groups_id in Odoo 18.0, group_ids in 19.0
groups = 'group_ids' if 'group_ids' in Users._fields else 'groups_id'
values = {{
    'name': 'Demo Salesperson', 'login': {login!r}, 'password': {login!r},
    'lang': {lang!r}, 'tz': 'Europe/Istanbul', 'active': True,
    'notification_type': 'inbox',
    groups: [(4, env.ref('sales_team.group_sale_salesman').id)],
}}
if sales:
    sales.write(values)
else:
    sales = Users.create(values)
team.write({{'member_ids': [(4, sales.id)]}})
admin = env.ref('base.user_admin')
Connect = env['meta.connect.wizard'].with_user(admin)
wizard = Connect.create({{'access_token': {token!r}}})
connection = env['meta.connection'].browse(wizard.action_connect()['res_id'])
assets = connection.asset_ids
page = assets.filtered(lambda a: a.external_id == {page_id!r})
# the Page's and the Instagram account's conversations: the salesperson's team
assets.filtered(lambda a: a.asset_type in ('page', 'instagram')).write(
    {{'inbox_team_id': team.id}})
forms = env['meta.lead.form']._meta_sync_forms(page)
forms.write({{'user_id': sales.id, 'team_id': team.id, 'lead_type': 'opportunity'}})
# the forms' consent checkboxes, mapped as an administrator does
Checkbox = env['meta.lead.form.consent']
for form in forms:
    for key, label, purpose in {consents!r}:
        if not Checkbox.search([('form_id', '=', form.id), ('checkbox_key', '=', key)]):
            Checkbox.create({{'form_id': form.id, 'checkbox_key': key, 'label': label,
                             'purpose': purpose}})
for form in forms:
    env['meta.lead.sync']._meta_sync_form(form)
# Conversion Leads: the stages a Meta lead reaches, told to the dataset
dataset = assets.filtered(lambda a: a.asset_type == 'dataset')[:1]
dataset.conversion_enabled = True
stages = env['crm.stage'].search([('is_won', '=', False)], order='sequence, id')
for stage, event in zip(stages, ('Lead', 'Qualified')):
    stage.meta_conversion_event = event
won = env['crm.stage'].search([('is_won', '=', True)], limit=1)
won.meta_conversion_event = 'Converted'
leads = env['crm.lead'].search([('meta_form_id', 'in', forms.ids)], order='id')
if len(stages) > 1 and len(leads) > 2:
    leads[0].write({{'stage_id': stages[1].id, 'expected_revenue': 48500}})
    leads[1].write({{'stage_id': won.id, 'expected_revenue': 36900}})
# a Custom Audience of the people whose leads are open, synced to the ad account
ad_account = assets.filtered(lambda a: a.asset_type == 'ad_account')[:1]
Audience = env['meta.audience']
audience = Audience.search([('name', '=', 'Teklif isteyenler')], limit=1)
if ad_account and not audience:
    audience = Audience.create({{
        'name': 'Teklif isteyenler', 'ad_account_id': ad_account.id,
        'segment': 'pipeline', 'stage_ids': [(6, 0, stages.ids)]}})
audience.action_sync_now()
# Meta's app sends each webhook field the addon handles (App Dashboard)
from odoo.addons.meta_graph_connector.graph.webhook import fields_for_kinds
kinds = env['meta.webhook.event']._meta_handled_kinds()
fields = sorted(
    set(fields_for_kinds('page', kinds)) | set(fields_for_kinds('instagram', kinds)))
print('DEMO_FIELDS', ','.join(fields))
print('DEMO_READY', connection.state, len(forms), env['crm.lead'].search_count([]),
      sales.lang, sales.has_group('sales_team.group_sale_salesman'),
      len(assets.filtered(lambda a: a.asset_type in ('ad_account', 'dataset'))))
"""


class DemoError(Exception):
    """A step cannot go on: the message says why (exit status 1)."""

    code = 1


class Missing(DemoError):
    """A prerequisite is missing or something is in the way (exit status 2)."""

    code = 2


# ---------------------------------------------------------------- steps


class _Step:
    result = "done"
    detail = ""


def say(text, end="\n"):
    """Print, never failing (a closed terminal or pipe must not stop a cleanup)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, end=end, flush=True)


@contextlib.contextmanager
def step(title):
    """Print ``title … done in N s``. What the step's commands print (on
    standard output and error, Python's and its child processes') goes to
    ``.demo/demo.log``, shown when the step fails."""
    say(f"{title} … ", end="")
    started = time.monotonic()
    state = _Step()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with LOG.open("a") as sink:
        sink.write(f"\n=== {time.strftime('%H:%M:%S')} {title}\n")
        sink.flush()
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield state
        except KeyboardInterrupt:
            state.result = "interrupted"
            raise
        except BaseException:
            state.result = "failed"
            raise
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
                sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            elapsed = time.monotonic() - started
            detail = f" ({state.detail})" if state.detail else ""
            say(f"{state.result} in {elapsed:.1f} s{detail}")


def log_tail(lines=25):
    try:
        text = LOG.read_text(errors="replace").rstrip().splitlines()
    except OSError:
        return ""
    return "\n".join(f"  | {line}" for line in text[-lines:])


def run(command, **kwargs):
    """Run a command whose output goes to the log (inside a step)."""
    kwargs.setdefault("check", True)
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(command, **kwargs)  # noqa: PLW1510 - check given


def hold_lock():
    """One demo at a time in a checkout: they would share ``.demo/`` (the
    filestore of the same database name, the log) and ``.demo-pg/``. The
    lock is held until stage 2 ends (it passes the exec; not to Odoo)."""
    import fcntl  # noqa: PLC0415 - Unix only, like the rest

    fd = os.open(DEMO_DIR / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise Missing(
            "Another make demo is running in this repository (they would share "
            ".demo/ and .demo-pg/): stop it first (Ctrl-C in its terminal)."
        ) from None
    os.set_inheritable(fd, True)
    return fd


def interrupt(signum, _frame):
    """SIGTERM and SIGHUP stop the demo as Ctrl-C does (cleanup included)."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


# ------------------------------------------------------ stage 1: Odoo, Python


def is_local_path(url):
    return not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) and (
        Path(url).expanduser().exists() or not re.match(r"^[^/]+@[^/]+:", url)
    )


def clone_odoo(url, branch):
    """A shallow clone of Odoo in ``.odoo-src/`` (once)."""
    if (ODOO_SRC / "odoo-bin").exists():
        origin = subprocess.run(
            ["git", "-C", str(ODOO_SRC), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        print(
            f"Odoo: {ODOO_SRC.relative_to(REPO)}/ (cloned earlier"
            f"{' from ' + origin if origin else ''}; delete it to fetch again)"
        )
        return ODOO_SRC
    if not shutil.which("git"):
        raise Missing(
            "git is needed to fetch Odoo: install it (apt-get install git), or "
            "give an Odoo 18.0 or 19.0 tree you have (make demo ODOO=/path/to/odoo)."
        )
    source = url
    if is_local_path(url):  # git ignores --depth for a plain local path
        source = Path(url).expanduser().resolve().as_uri()
    partial = ODOO_SRC.with_name(ODOO_SRC.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    label = f"Odoo {branch}" if branch else "Odoo (default branch)"
    command = ["git", "clone", "--depth", "1", "--no-tags"]
    command += ["--branch", branch] if branch else []
    try:
        with step(f"Cloning {label} from {source} into .odoo-src/ (once)"):
            process = subprocess.run(
                [*command, source, str(partial)],
                stdin=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            sys.stderr.write(process.stderr)
            if process.returncode:
                error = process.stderr.strip().splitlines()
                raise Missing(
                    f"git clone {source} failed ({error[-1] if error else 'no output'})"
                    + (
                        ": give a branch that exists (ODOO_BRANCH=..., empty for "
                        "the default one) or another URL (ODOO_GIT_URL=...)."
                        if "not found" in process.stderr
                        else ": check the URL and the network (ODOO_GIT_URL=... "
                        "for a mirror or a local clone)."
                    )
                )
            partial.rename(ODOO_SRC)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return ODOO_SRC


def check_odoo_tree(tree):
    if not (tree / "odoo-bin").exists() or not (tree / "requirements.txt").exists():
        raise Missing(
            f"{tree} is not an Odoo source tree (no odoo-bin, requirements.txt): "
            "give an Odoo 18.0 or 19.0 tree (ODOO=...) or leave ODOO out to fetch "
            "one."
        )
    series = odoo_series(tree)
    if series not in SUPPORTED_SERIES:
        supported = " or ".join(series_label(s) for s in SUPPORTED_SERIES)
        print(
            f"Warning: {tree} does not look like Odoo {supported} "
            f"(odoo/release.py: {series_label(series)}), which the addon needs."
        )


def check_clone_branch(tree, branch):
    """The clone made earlier is of the series ``branch`` names (``19.0``),
    else say how to fetch that one: ``.odoo-src/`` holds one clone."""
    wanted = re.fullmatch(r"(\d+)\.(\d+)", branch or "")
    if not wanted:
        return
    series = odoo_series(tree)
    if series and series != (int(wanted[1]), int(wanted[2])):
        raise Missing(
            f"{tree.relative_to(REPO)}/ holds Odoo {series_label(series)}, cloned "
            f"earlier, and ODOO_BRANCH={branch} asks for Odoo {branch}: delete "
            f"{tree.relative_to(REPO)}/ to fetch it (.odoo-venv/ is made again for "
            "it), or give its tree (ODOO=...)."
        )


def build_prerequisites(python):
    """Debian packages that building Odoo's requirements needs and lacks."""
    missing = list(odoo_venv.missing_headers())
    if not (shutil.which("cc") or shutil.which("gcc")):
        missing.insert(0, "build-essential")
    probe = subprocess.run(
        [
            python,
            "-c",
            "import ensurepip, sysconfig, os; print(os.path.exists(os.path.join("
            "sysconfig.get_paths()['include'], 'Python.h')))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode:
        missing.append("python3-venv")
    elif probe.stdout.strip() != "True":
        missing.append("python3-dev")
    return missing


def odoo_python(args, tree):
    """Odoo's Python: the one given, else ``.odoo-venv`` (made once)."""
    if args.python:
        python = shutil.which(args.python) or args.python
        if not Path(python).exists():
            raise Missing(f"ODOO_PYTHON={args.python}: no such program.")
        return str(Path(python).absolute())
    python = odoo_venv.venv_python(ODOO_VENV)
    if odoo_venv.is_current(ODOO_VENV, tree):
        print(f"Odoo's Python: {python.relative_to(REPO)} (made earlier)")
        return str(python)
    missing = build_prerequisites(sys.executable)
    if missing:
        raise Missing(
            "Building Odoo's Python environment needs a C compiler and headers "
            f"that are missing: apt-get install {' '.join(missing)} (or give a "
            "Python that has Odoo's requirements: ODOO_PYTHON=...)."
        )
    title = "Making Odoo's Python environment in .odoo-venv/ (once, a few minutes)"
    with step(title):
        try:
            run(
                [
                    sys.executable,
                    str(REPO / "tools" / "odoo_venv.py"),
                    "--odoo",
                    str(tree),
                    "--venv",
                    str(ODOO_VENV),
                    "--python",
                    sys.executable,
                ]
            )
        except subprocess.CalledProcessError:
            raise DemoError("tools/odoo_venv.py failed") from None
    return str(python)


def install_repository(python):
    """``pip install -e .`` in Odoo's Python, as ``make test-odoo`` does."""
    title = "Installing this repository in Odoo's Python (pip install -e .)"
    with step(title) as state:
        said = io.StringIO()
        with contextlib.redirect_stdout(said):
            try:
                ensure_simulator(python)
            except subprocess.CalledProcessError:
                raise DemoError("pip install -e . failed") from None
        if not said.getvalue():
            state.detail = "it was already"


def pg_problem():
    """None when PostgreSQL answers at the ``PG*`` settings, else why not;
    False when this Python cannot tell (no psycopg2, no psql)."""
    try:
        import psycopg2  # noqa: PLC0415 - Odoo's Python has it
    except ImportError:
        psql = shutil.which("psql") or _pg_program("psql")
        if not psql:
            return False
        process = subprocess.run(
            [psql, "-X", "-w", "-A", "-t", "-d", "postgres", "-c", "SELECT 1"],
            env={**os.environ, "PGCONNECT_TIMEOUT": "3"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        return None if process.returncode == 0 else process.stderr.strip()
    try:
        psycopg2.connect(dbname="postgres", connect_timeout=3).close()
    except psycopg2.Error as error:
        return str(error).strip()
    return None


def pg_answered(problem):
    """Whether the server answered (and refused: a role, a password)."""
    return bool(problem) and any(
        mark in problem for mark in ("FATAL", "fe_sendauth", "password")
    )


def pg_where():
    host = os.environ.get("PGHOST") or "the local socket"
    return f"{host}, port {os.environ.get('PGPORT') or 5432}"


def pg_settings_given():
    return any(
        os.environ.get(name) for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD")
    )


def no_postgres(problem):
    return Missing(
        f"No PostgreSQL answers at {pg_where()} ({problem.splitlines()[0]}) and "
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql (the demo then starts a private one), or "
        "set PGHOST, PGPORT, PGUSER, PGPASSWORD to a server that answers."
    )


def bootstrap(args, argv):
    """Stage 1, in any Python 3: Odoo's tree and Python, then stage 2 in it."""
    check_port(args.port)  # checked again in stage 2; here before a long clone
    problem = pg_problem()
    if problem and not pg_answered(problem) and not pg_programs():
        raise no_postgres(problem)  # before a long clone
    if args.odoo:
        tree = Path(args.odoo).expanduser().resolve()
    else:
        tree = clone_odoo(args.odoo_git_url, args.odoo_branch)
        check_clone_branch(tree, args.odoo_branch)
    check_odoo_tree(tree)
    python = odoo_python(args, tree)
    install_repository(python)
    sys.stdout.flush()
    os.execv(
        python,
        [
            python,
            str(Path(__file__).resolve()),
            *argv,
            "--odoo",
            str(tree),
            "--python",
            python,
            "--stage",
            "run",
        ],
    )


# ------------------------------------------------- stage 2: PostgreSQL


def _pg_program(name):
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        found = sorted(
            Path("/").glob(pattern.lstrip("/")),
            key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)] or [0],
            reverse=True,
        )
        for folder in found:
            if (folder / name).exists():
                return str(folder / name)
    return None


def pg_programs():
    """The folder of PostgreSQL's server programs (initdb, pg_ctl), or None."""
    for name in ("initdb", "pg_ctl"):
        on_path = shutil.which(name)
        if on_path:
            folder = Path(on_path).resolve().parent
            if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
                return folder
    initdb = _pg_program("initdb")
    if initdb and (Path(initdb).parent / "pg_ctl").exists():
        return Path(initdb).parent
    return None


class PrivateCluster:
    """A PostgreSQL for the demo alone: ``.demo-pg/``, a Unix socket in it
    and no TCP, trust authentication on a socket only its owner (and root)
    may open, the role ``odoo``. initdb and postgres refuse to run as root:
    as root, the cluster belongs to the repository's owner when that is not
    root, else to the ``postgres`` system user, else ``nobody``."""

    def __init__(self, programs):
        self.programs = programs
        self.base = PG_DIR
        self.user = self._owner()
        self.socket_dir = None
        self.running = False

    @staticmethod
    def _owner():
        if os.geteuid() != 0:
            return None
        owner = pwd.getpwuid(REPO.stat().st_uid)
        if owner.pw_uid != 0:
            return owner
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                return pwd.getpwnam(name)
        raise Missing(
            "PostgreSQL refuses to run as root and this machine has neither a "
            "'postgres' nor a 'nobody' user: run the demo as another user."
        )

    def _as_owner(self):
        if not self.user:
            return {}
        return {
            "user": self.user.pw_uid,
            "group": self.user.pw_gid,
            "extra_groups": [],
            "env": {**os.environ, "HOME": self.user.pw_dir, "USER": self.user.pw_name},
        }

    def _run(self, *command, check=True):
        return run(
            [str(self.programs / command[0]), *command[1:]],
            cwd="/",
            check=check,
            **self._as_owner(),
        )

    def _own(self, path):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.user:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _prepare_folders(self):
        self._own(self.base)
        if self.user:
            reachable = subprocess.run(
                ["test", "-w", str(self.base)], check=False, **self._as_owner()
            )
            if reachable.returncode:  # a parent folder closed to that user
                digest = hashlib.sha256(str(REPO).encode()).hexdigest()[:10]
                self.base = Path("/var/tmp") / f"meta-demo-pg-{digest}"
                self._own(self.base)
                print(
                    f"({PG_DIR} is out of reach of the user {self.user.pw_name}: "
                    f"the cluster lives in {self.base})"
                )
        self.socket_dir = self.base
        if len(str(self.base / f".s.PGSQL.{PG_PORT}")) > 100:  # sun_path limit
            digest = hashlib.sha256(str(self.base).encode()).hexdigest()[:10]
            self.socket_dir = Path("/tmp") / f"mgc-pg-{digest}"
            self._own(self.socket_dir)

    @property
    def data(self):
        return self.base / "data"

    def start(self):
        self._prepare_folders()
        owner = f" as the user {self.user.pw_name}" if self.user else ""
        if not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data, ignore_errors=True)
            with step(f"Creating a private PostgreSQL in {self.base}{owner} (once)"):
                self._run(
                    "initdb",
                    "-D",
                    str(self.data),
                    "-U",
                    PG_ROLE,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                )
        title = (
            f"Starting the private PostgreSQL{owner} "
            f"(Unix socket in {self.socket_dir}, no TCP)"
        )
        with step(title):
            status = self._run("pg_ctl", "status", "-D", str(self.data), check=False)
            if status.returncode == 0:
                print("left running by an earlier demo: restarting it")
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
            options = (
                f"-c listen_addresses='' -k {shlex.quote(str(self.socket_dir))} "
                f"-c unix_socket_permissions=0700 -p {PG_PORT}"
            )
            try:
                self._run(
                    "pg_ctl",
                    "start",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.base / "postgresql.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                )
            except subprocess.CalledProcessError:
                raise DemoError(
                    f"the private PostgreSQL did not start: see "
                    f"{self.base / 'postgresql.log'}"
                ) from None
            self.running = True
        for name in ("PGPASSWORD", "PGHOSTADDR", "PGSERVICE", "PGSSLMODE"):
            os.environ.pop(name, None)
        os.environ.update(PGHOST=str(self.socket_dir), PGPORT=PG_PORT, PGUSER=PG_ROLE)

    def stop(self):
        if not self.running:
            return
        with step("Stopping the private PostgreSQL"):
            self._run(
                "pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", check=False
            )
        self.running = False


def connect_postgres(cleanup):
    """PostgreSQL at the ``PG*`` settings, else a private cluster."""
    with step(f"Connecting to PostgreSQL at {pg_where()}") as state:
        problem = pg_problem()
        if problem:
            state.result = "refused" if pg_answered(problem) else "no answer"
            state.detail = problem.splitlines()[0]
    if problem and pg_answered(problem) and pg_settings_given():
        raise Missing(
            f"PostgreSQL at {pg_where()} refused the connection "
            f"({problem.splitlines()[0]}): fix PGUSER/PGPASSWORD, or unset the "
            "PG* variables to let the demo start a private PostgreSQL."
        )
    if problem:
        programs = pg_programs()
        if not programs:
            raise no_postgres(problem)
        cluster = PrivateCluster(programs)
        cleanup.append((None, cluster.stop))
        cluster.start()
    import psycopg2  # noqa: PLC0415 - Odoo's Python has it

    connection = psycopg2.connect(dbname="postgres", connect_timeout=5)
    connection.autocommit = True
    with connection.cursor() as cr:
        cr.execute("SELECT current_user, current_setting('server_version_num')::int")
        role, version = cr.fetchone()
    if role == "postgres":
        connection.close()
        raise Missing(
            "Odoo refuses to run as PostgreSQL's 'postgres' role: create another "
            "one (sudo -u postgres createuser --createdb --pwprompt odoo) and set "
            "PGUSER/PGPASSWORD, or unset the PG* variables for a private PostgreSQL."
        )
    return connection, version


# -------------------------------------------------------- the database


def database_state(connection, name):
    """None (no such database), 'demo' (created by the demo) or 'other'."""
    with connection.cursor() as cr:
        cr.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = %s",
            [name],
        )
        row = cr.fetchone()
    if row is None:
        return None
    return "demo" if row[0] == DB_MARK else "other"


def drop_database(connection, version, name, data_dir):
    import psycopg2  # noqa: PLC0415 - Odoo's Python has it
    from psycopg2 import sql  # noqa: PLC0415

    force = sql.SQL(" WITH (FORCE)") if version >= 130000 else sql.SQL("")
    with connection.cursor() as cr:
        try:
            cr.execute(
                sql.SQL("DROP DATABASE {}{}").format(sql.Identifier(name), force)
            )
        except psycopg2.errors.InsufficientPrivilege:
            cr.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                [name],
            )
            raise Missing(
                f"Database '{name}' belongs to the PostgreSQL role "
                f"'{cr.fetchone()[0]}', which the demo cannot drop as "
                f"'{connection.info.user}': run it as that role (PGUSER=...), on "
                f"another database (make demo DB=another_name) or in this one "
                f"(make demo REUSE=1)."
            ) from None
    shutil.rmtree(Path(data_dir) / "filestore" / name, ignore_errors=True)


def create_database(connection, name):
    """As Odoo creates one (``odoo.service.db._create_empty_database``),
    marked as the demo's so that a later run may drop it."""
    import psycopg2  # noqa: PLC0415 - Odoo's Python has it
    from psycopg2 import sql  # noqa: PLC0415

    with connection.cursor() as cr:
        try:
            cr.execute(
                sql.SQL(
                    "CREATE DATABASE {} ENCODING 'unicode' LC_COLLATE 'C' "
                    "TEMPLATE template0"
                ).format(sql.Identifier(name))
            )
        except psycopg2.errors.InsufficientPrivilege:
            raise Missing(
                "The PostgreSQL role may not create databases: give it the right "
                "(ALTER ROLE <role> CREATEDB, as a PostgreSQL administrator), or "
                "unset the PG* variables for a private PostgreSQL."
            ) from None
        cr.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(DB_MARK)
            )
        )
    database = psycopg2.connect(dbname=name, connect_timeout=5)
    try:
        database.autocommit = True
        with database.cursor() as cr:
            for statement in (
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                "GRANT CREATE ON SCHEMA PUBLIC TO PUBLIC",
            ):
                with contextlib.suppress(psycopg2.Error):
                    cr.execute(statement)
    finally:
        database.close()


def ask(question):
    try:
        return input(question).strip().lower()
    except EOFError:
        return ""


def prepare_database(args, connection, version, data_dir):
    """Return whether the demo runs in a new database (else in a kept one)."""
    name = args.database
    state = database_state(connection, name)
    if state and args.reuse:
        print(f"Database '{name}': kept as it is and used by the demo (--reuse)")
        return False
    if state == "other":
        question = (
            f"Database {name} exists and was not created by the demo. Drop it? [y/N] "
        )
        if not (sys.stdin.isatty() and ask(question) in ("y", "yes")):
            raise Missing(
                f"Database '{name}' exists and was not created by the demo: it is "
                f"left untouched. Use another name (make demo DB=another_name) or "
                f"run the demo in it as it is (make demo REUSE=1, or --reuse)."
            )
    if state:
        what = "the demo's previous" if state == "demo" else "the"
        with step(f"Dropping {what} database '{name}'"):
            drop_database(connection, version, name, data_dir)
    with step(f"Creating the database '{name}'"):
        create_database(connection, name)
    return True


# ------------------------------------------------------------ the demo


def check_port(port):
    with socket.socket() as probe:
        # as Odoo binds: a connection of a previous run in TIME_WAIT is no use
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            raise Missing(
                f"Port {port} is in use (another Odoo?): stop it or pick another "
                f"port (make demo PORT={port + 1})."
            ) from None


def websocket_status(port):
    """Open Odoo's websocket as the browser does; return the status line."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Origin: http://127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    head = answer.decode("latin-1").split("\r\n")
    expected = base64.b64encode(
        hashlib.sha1(  # noqa: S324 - RFC 6455's handshake
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
        ).digest()
    ).decode()
    accepted = any(
        line.lower() == f"sec-websocket-accept: {expected}".lower() for line in head
    )
    return head[0], head[0].split(" ")[1:2] == ["101"] and accepted


def prepare_simulator(new):
    from meta_simulator import MetaSimulator  # noqa: PLC0415

    sim = MetaSimulator(seed=2026, app_id=APP_ID, app_secret=APP_SECRET).start()
    page = sim.add_page(name=COMPANY, ig_account_id=True)
    # the ad account and its dataset: Custom Audiences and Conversion Leads
    ad_account = sim.add_ad_account(f"{COMPANY} Reklam", currency=CURRENCY)
    sim.add_dataset(f"{COMPANY} Pixel", ad_account_id=ad_account["id"])
    token = sim.add_user_token(
        pages=[page["id"]], token_type="SYSTEM_USER", ad_accounts=[ad_account["id"]]
    )
    forms = [
        sim.add_form(page["id"], name="Kış Kampanyası – Teklif Formu"),
        sim.add_form(page["id"], name="Instagram – Showroom Randevusu"),
    ]
    rng = random.Random(11)
    now = time.time()
    for form in forms:  # a little history for the backfill to import
        for _ in range(8):
            sim.add_lead(
                form["id"],
                created_time=int(rng.uniform(now - 10 * 86400, now - 3600)),
                platform=rng.choice(["fb", "fb", "ig"]),
                custom_disclaimer_responses=consent_answers(rng),
            )
    # what people comment under
    posts = {
        "facebook": sim.add_post(page["id"], message=POST_TEXT)["id"],
        "instagram": sim.add_ig_media(page["ig_account_id"], caption=MEDIA_CAPTION)[
            "id"
        ],
    }
    if not new:  # the kept database has this seed's ids: new people, new ids
        for stream in (
            "id:lead",
            "leads:data",
            "leads:meta",
            "id:person",
            "id:comment",
            "id:igcomment",
            "token:mid",
        ):
            sim.ids.rng(stream).seed(f"{stream}:{time.time_ns()}")
    return sim, page, token, forms, posts


def consent_answers(rng):
    """The form's consent boxes as a person answers them (most tick both)."""
    return [
        {"checkbox_key": key, "is_checked": "1" if rng.random() < 0.8 else "0"}
        for key, _label, _purpose in CONSENTS
    ]


def set_up_odoo(args, odoo, sim, page, token, new):
    """Install, connect, configure; return the webhook fields the addon
    handles (the app's subscription in Meta's App Dashboard)."""
    modules = ["-i", ADDON] + ([] if new else ["-u", ADDON])
    where = "the new" if new else "the kept"
    with step(f"Installing {ADDON} in {where} database '{args.database}'"):
        code, output = odoo.run(*modules, "--stop-after-init", "--log-level=warn")
        if code != 0:
            sys.stderr.write(output[-5000:])
            raise DemoError(f"installing {ADDON} failed (odoo-bin exit {code})")
    title = (
        "Connecting the sandbox business (Page, Instagram, ad account, dataset), "
        "importing its forms' history, adding Turkish and the demo salesperson"
    )
    settings = sandbox_settings(
        APP_ID, APP_SECRET, sim.base_url, verify_token=VERIFY_TOKEN
    )
    with step(title) as state:
        output = odoo.shell(
            settings
            + SETUP.format(
                odoo_url=odoo.url,
                token=token,
                page_id=page["id"],
                login=SALES_LOGIN,
                lang=SALES_LANG,
                company=COMPANY,
                currency=CURRENCY,
                consents=CONSENTS,
            )
        )
        lines = output.splitlines()
        ready = next(line for line in lines if "DEMO_READY" in line)
        _, connection, forms, leads, lang, salesman, ads = ready.split()
        fields = next(line for line in lines if "DEMO_FIELDS" in line).split()[1]
        state.detail = (
            f"connection {connection}, {forms} forms, {leads} leads in the pipeline, "
            f"{ads} ad account and dataset, {SALES_LOGIN}: {lang}, Sales / User: "
            f"Own Documents Only {salesman}"
        )
    return fields.split(",")


def start_odoo(args, odoo, sim, fields):
    # --workers=0: one multi-threaded process serves the pages, the JSON-RPC
    # calls and the browser's /websocket (live notifications) on one port; in
    # prefork mode (--workers>0) the websocket needs the gevent port behind a
    # proxy. Two cron threads import the leads.
    log = DEMO_DIR / "odoo.log"
    title = f"Starting Odoo on {odoo.url} (multi-threaded, log in .demo/odoo.log)"
    with step(title):
        odoo.start("--workers=0", "--max-cron-threads=2", log_file=log)
    # the Page's webhook subscription waits in the outbox, queued by the setup
    # before the server ran: wake the crons so Meta sends leads from the start
    with step("Subscribing the Page to Meta's webhooks") as state:
        if not odoo.wait_for(
            "SELECT count(*) FROM meta_outbox WHERE state IN ('pending', 'failed')"
        ):
            state.result = "still queued (see .demo/odoo.log) after"
    with step("Meta's webhook handshake with Odoo") as state:
        # Meta's subscription handshake against Odoo (raises if Odoo refuses)
        sim.set_callback(
            f"{odoo.url}/meta/webhook", VERIFY_TOKEN, fields=fields, verify=True
        )
        state.detail = f"accepted: {', '.join(fields)}"
    with step(f"Live notifications: ws://127.0.0.1:{args.port}/websocket") as state:
        status, ok = websocket_status(args.port)
        state.detail = status
        if not ok:
            state.result = "FAILED (see .demo/odoo.log)"


def customers_act(args, sim, page, forms, posts, rng):
    """A round every ``interval`` seconds: a lead, a comment on the Page's
    post and one on the Instagram media, a Messenger and an Instagram
    message, each from a Turkish customer; ``count`` rounds (0: forever)."""
    rounds = 0
    while not args.count or rounds < args.count:
        turn = rounds % 3
        rounds += 1
        form = rng.choice(forms)
        lead = sim.submit_lead(
            form["id"],
            platform=rng.choice(["fb", "fb", "ig"]),
            custom_disclaimer_responses=consent_answers(rng),
        )
        name = next(
            (f["values"][0] for f in lead["field_data"] if f["name"] == "full_name"),
            lead["id"],
        )
        say_at(f"lead {rounds}: {name} → {form['name']}")
        time.sleep(args.interval)
        author, text = FACEBOOK_COMMENTS[turn]
        sim.add_comment(posts["facebook"], text, from_name=author)
        say_at(f"Facebook comment: {author}: {text}")
        time.sleep(args.interval)
        username, text = INSTAGRAM_COMMENTS[turn]
        sim.add_comment(posts["instagram"], text, username=username)
        say_at(f"Instagram comment: @{username}: {text}")
        time.sleep(args.interval)
        author, text = MESSENGER_MESSAGES[turn]
        sim.receive_dm(page["id"], person_id(rng), text, name=author)
        say_at(f"Messenger: {author}: {text}")
        time.sleep(args.interval)
        username, author, text = INSTAGRAM_MESSAGES[turn]
        sim.receive_dm(
            page["id"],
            person_id(rng),
            text,
            channel="instagram",
            name=author,
            username=username,
        )
        say_at(f"Instagram Direct: @{username}: {text}")
        time.sleep(args.interval)


def person_id(rng):
    """A new person's scoped id, as Meta gives one per Page."""
    return str(rng.randrange(10**15, 10**16))


def say_at(text):
    print(f"{time.strftime('%H:%M:%S')}  {text}", flush=True)


def run_demo(args, cleanup):
    """Stage 2, in Odoo's Python: PostgreSQL, the database, Odoo, the leads."""
    DEMO_DIR.mkdir(exist_ok=True)
    data_dir = DEMO_DIR / "data"
    check_port(args.port)
    connection, version = connect_postgres(cleanup)
    try:
        new = prepare_database(args, connection, version, data_dir)
    finally:
        connection.close()
    args.database_used = True
    with step("Starting the Meta simulator") as state:
        sim, page, token, forms, posts = prepare_simulator(new)
        cleanup.append(("Stopping the Meta simulator", sim.stop))
        state.detail = sim.base_url
    odoo = OdooHarness(
        args.odoo,
        args.python,
        database=args.database,
        http_port=args.port,
        data_dir=data_dir,
    )
    cleanup.append(("Stopping Odoo", odoo.stop))
    fields = set_up_odoo(args, odoo, sim, page, token, new)
    start_odoo(args, odoo, sim, fields)
    admin = "admin / admin" if new else "your administrator's login"
    print(
        f"\nReady in {time.time() - args.started:.0f} s. Open {odoo.url}/odoo/crm "
        f"and log in as\n"
        f"  {admin:<24} the administrator (English)\n"
        f"  {SALES_LOGIN + ' / ' + SALES_LOGIN:<24} Demo Salesperson (Turkish): the "
        "leads are assigned to them,\n"
        f"  {'':<24} each with a call activity and a live notification\n"
        f"  {'':<24} (a private window lets you be both at once)\n"
        f"Every {args.interval:g} s a Turkish customer acts: a lead, a comment on "
        "Facebook and on Instagram\n(CRM > Sales > Social Comments, the card), "
        "a Messenger and an Instagram message (Discuss).\n"
        "Audiences and Conversion Leads: CRM > Configuration > Meta. "
        "Ctrl-C to stop.\n",
        flush=True,
    )
    args.ready = True
    customers_act(args, sim, page, forms, posts, random.Random(7 if new else None))


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--odoo", help="an Odoo 18.0 or 19.0 tree (default: clone 18.0)"
    )
    parser.add_argument("--python", help="Odoo's Python (default: .odoo-venv)")
    parser.add_argument(
        "--odoo-git-url",
        default=os.environ.get("ODOO_GIT_URL") or OFFICIAL_GIT_URL,
        help="where to clone Odoo from (a URL or a local clone; ODOO_GIT_URL)",
    )
    parser.add_argument(
        "--odoo-branch",
        default=os.environ.get("ODOO_BRANCH", OFFICIAL_BRANCH),
        help="the branch to clone, empty for the default one (ODOO_BRANCH)",
    )
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--database", default="meta_demo")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="run in the existing database as it is instead of a new one",
    )
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument(
        "--count",
        type=int,
        default=0,
        help="stop after this many rounds (a lead, two comments, two messages; "
        "0: never)",
    )
    parser.add_argument("--stage", default="bootstrap", help=argparse.SUPPRESS)
    parser.add_argument(
        "--started", type=float, default=time.time(), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.ready = args.database_used = False
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)
    DEMO_DIR.mkdir(exist_ok=True)
    cleanup = []
    code = 0
    try:
        if args.stage == "bootstrap":
            hold_lock()
            LOG.write_text(f"make demo, {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            argv = [*argv, "--started", str(args.started)]
            bootstrap(args, argv)
        else:
            run_demo(args, cleanup)
    except KeyboardInterrupt:
        print()
        code = 0 if args.ready else 130
    except DemoError as error:
        print(f"\n{error}")
        if not isinstance(error, Missing):
            print(f"Last lines of {LOG.relative_to(REPO)}:\n{log_tail()}")
        code = error.code
    except SystemExit as error:  # the harness's messages
        if not isinstance(error.code, str):
            raise
        print(f"\n{error.code}\nLast lines of {LOG.relative_to(REPO)}:\n{log_tail()}")
        if args.stage == "run":
            print(f"Odoo's own log: {(DEMO_DIR / 'odoo.log').relative_to(REPO)}")
        code = 1
    except Exception as error:  # noqa: BLE001 - the traceback goes to the log
        with LOG.open("a") as sink:
            traceback.print_exc(file=sink)
        print(
            f"\n{type(error).__name__}: {error}\n"
            f"Last lines of {LOG.relative_to(REPO)} (the traceback is there):\n"
            f"{log_tail()}"
        )
        code = 1
    finally:
        # a second Ctrl-C must not leave Odoo or PostgreSQL running
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        for title, stop in reversed(cleanup):
            try:
                with step(title) if title else contextlib.nullcontext():
                    stop()
            except Exception as error:  # noqa: BLE001 - stop the others too
                print(f"  ({error})")
                code = code or 1
    if args.database_used:
        print(
            f"Stopped. The database '{args.database}' is kept: make demo REUSE=1 "
            "goes on with it, a plain make demo starts it afresh."
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
