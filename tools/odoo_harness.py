"""Drive an Odoo the user already has (18.0 or 19.0), with this repository on
its addons path.

Used by ``make test-odoo``, ``make bench-*`` and ``make demo``. It never builds
or installs Odoo: it takes the path of an Odoo 18.0 or 19.0 source tree
(``ODOO``) and the Python that has Odoo's requirements (``ODOO_PYTHON``), and
talks to PostgreSQL with the usual ``PG*`` environment variables. The tree's
series (:func:`odoo_series`) picks the options that differ between them.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON = "meta_graph_connector"
SUMMARY_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
#: The Odoo series the tools run: (major, minor) as in ``odoo/release.py``.
SUPPORTED_SERIES = ((18, 0), (19, 0))
VERSION_INFO_RE = re.compile(r"^version_info\s*=\s*\(\s*(\d+)\s*,\s*(\d+)", re.M)


def odoo_series(odoo):
    """The series of the Odoo source tree at ``odoo``, e.g. ``(18, 0)``: read
    from the text of its ``odoo/release.py`` (never imported: the Python
    running the tools need not be Odoo's). None when the tree has no
    readable ``version_info``."""
    release = Path(odoo) / "odoo" / "release.py"
    try:
        text = release.read_text(encoding="utf-8")
    except OSError:
        return None
    found = VERSION_INFO_RE.search(text)
    return (int(found[1]), int(found[2])) if found else None


def series_label(series):
    """``(19, 0)`` as ``19.0``; None as ``unknown``."""
    return ".".join(map(str, series)) if series else "unknown"


def demo_data_args(series):
    """odoo-bin's options that leave demo data out of a new database: 18.0
    needs ``--without-demo=all``; 19.0 leaves it out by default (``--with-demo``
    adds it) and its option parser refuses ``all``."""
    if series and series >= (19, 0):
        return []
    return ["--without-demo=all"]


class OdooHarness:
    """Create a database, install the addon, run a server, drop it all after."""

    def __init__(self, odoo, python=None, database=None, http_port=None, data_dir=None):
        self.odoo = Path(odoo).resolve()
        self.odoo_bin = self.odoo / "odoo-bin"
        if not self.odoo_bin.exists():
            raise SystemExit(
                f"{self.odoo_bin} not found: ODOO must be an Odoo 18.0 or 19.0 tree"
            )
        self.series = odoo_series(self.odoo)
        if self.series not in SUPPORTED_SERIES:
            supported = " or ".join(series_label(s) for s in SUPPORTED_SERIES)
            print(
                f"Warning: {self.odoo} is Odoo {series_label(self.series)} "
                f"(odoo/release.py), not {supported}: the tools may not drive it",
                file=sys.stderr,
            )
        self.python = python or sys.executable
        self.database = database or f"mgc_{os.getpid()}_{int(time.time())}"
        self.http_port = http_port or _free_port()
        # Odoo's data files (filestore, sessions): a new temporary folder,
        # removed by drop(), unless a folder to keep and reuse is given
        self.own_data_dir = data_dir is None
        if data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="mgc-odoo-data-")
        else:
            self.data_dir = str(Path(data_dir).resolve())
            Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        self.server = None

    # ------------------------------------------------------------ commands

    def base_args(self, command=None):
        args = [
            self.python,
            str(self.odoo_bin),
            *([command] if command else []),
            f"--addons-path={self.odoo / 'addons'},{REPO}",
            f"--database={self.database}",
            f"--data-dir={self.data_dir}",
            f"--http-port={self.http_port}",
            "--http-interface=127.0.0.1",
            *demo_data_args(self.series),
            f"--db-filter=^{re.escape(self.database)}$",
        ]
        for option, variable in (
            ("--db_host", "PGHOST"),
            ("--db_port", "PGPORT"),
            ("--db_user", "PGUSER"),
            ("--db_password", "PGPASSWORD"),
        ):
            if os.environ.get(variable):
                args.append(f"{option}={os.environ[variable]}")
        return args

    def run(self, *extra, log_file=None, timeout=1800):
        """Run odoo-bin to completion; return (exit code, output text)."""
        with tempfile.TemporaryFile("w+") as sink:
            process = subprocess.run(
                [*self.base_args(), *extra],
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                timeout=timeout,
                check=False,
            )
            sink.seek(0)
            output = sink.read()
        if log_file:
            Path(log_file).write_text(output)
        return process.returncode, output

    def install_for(self, sim, script=""):
        """Install the addon, point its Meta app at the simulator ``sim`` and
        run ``script`` in the same ``odoo-bin shell``: every bench's set-up.
        Return the shell's output (read its markers with :func:`marker`)."""
        self.install()
        return self.shell(
            sandbox_settings(sim.app_id, sim.app_secret, sim.base_url) + script
        )

    def install(self, modules=ADDON):
        code, output = self.run("-i", modules, "--stop-after-init", "--log-level=warn")
        if code != 0:
            sys.stderr.write(output[-5000:])
            raise SystemExit(f"Installing {modules} failed (exit {code})")
        return output

    def shell(self, script):
        """Run Python in ``odoo-bin shell`` (``env`` is bound); return output."""
        process = subprocess.run(
            [*self.base_args("shell"), "--no-http", "--log-level=warn"],
            input=script + "\nenv.cr.commit()\n",
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=600,
            check=False,
        )
        if process.returncode != 0:
            sys.stderr.write(process.stdout[-3000:] + process.stderr[-3000:])
            raise SystemExit("odoo-bin shell failed")
        return process.stdout

    def start(self, *extra, log_file=None):
        """Start the HTTP server in the background and wait until it answers."""
        log = open(log_file or os.devnull, "w")  # noqa: SIM115 - lives with the server
        self.server = subprocess.Popen(
            [*self.base_args(), *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit("Odoo stopped while starting; see its log")
            try:
                with urllib.request.urlopen(f"{self.url}/web/health", timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        raise SystemExit("Odoo did not answer within 120 s")

    def wake_crons(self):
        """Wake the cron workers now, as ``ir.cron._trigger`` does.

        A cron worker sleeps up to about 70 s between passes unless told by a
        ``cron_trigger`` notification, which it listens to on the
        ``postgres`` database; work queued before the server started (by
        ``odoo-bin shell``) would otherwise wait that long."""
        import psycopg2  # noqa: PLC0415 - Odoo's Python has it, the core's not

        connection = psycopg2.connect(dbname="postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cr:
                cr.execute("SELECT pg_notify('cron_trigger', %s)", [self.database])
        finally:
            connection.close()

    def wait_for(self, query, timeout=60):
        """Wake the crons until ``query`` (one value) is falsy in the
        database; return whether it got there in time."""
        import psycopg2  # noqa: PLC0415 - Odoo's Python has it, the core's not

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.wake_crons()
            connection = psycopg2.connect(dbname=self.database)
            try:
                with connection.cursor() as cr:
                    cr.execute(query)
                    if not cr.fetchone()[0]:
                        return True
            finally:
                connection.close()
            time.sleep(1)
        return False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def webhook_url(self):
        """Where Meta posts its webhooks to this Odoo."""
        return f"{self.url}/meta/webhook"

    def stop(self):
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        self.server = None

    def drop(self):
        self.stop()
        # --force: a cron worker of the stopped server may still hold a
        # connection for a moment, and a plain dropdb then fails silently,
        # leaving a database behind at every bench run
        subprocess.run(
            ["dropdb", "--if-exists", "--force", self.database],
            check=False,
            capture_output=True,
        )
        if self.own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if os.environ.get("KEEP_DB"):
            self.stop()
            print(f"database kept: {self.database}")
        else:
            self.drop()


def ensure_simulator(python):
    """Make the repository's simulator package importable by Odoo's Python
    (the Odoo tests import it like a library): install
    ``test-requirements.txt`` once, as OCA's CI does."""
    probe = subprocess.run(
        [python, "-c", "import meta_simulator; print(meta_simulator.__file__)"],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=False,
    )
    found = Path(probe.stdout.strip()).resolve() if probe.returncode == 0 else None
    if found and found.parent.parent == REPO:
        return
    print("Installing test-requirements.txt (the Meta simulator) in Odoo's Python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps"]
        + ["-r", str(REPO / "test-requirements.txt")],
        cwd=REPO,
        check=True,
    )


def bench_parser(description):
    """The arguments of every bench: the Odoo tree and the Python running it;
    the bench adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--odoo", required=True, help="Odoo 18.0 or 19.0 source tree")
    parser.add_argument("--python", default=None, help="Python with Odoo's deps")
    return parser


def marker(output, name):
    """The rest of the line of ``odoo-bin shell`` output that starts with
    ``name`` (a bench script prints ``BENCH_SETUP {json}`` and the like)."""
    for line in output.splitlines():
        if line.startswith(name + " "):
            return line[len(name) + 1 :]
    raise SystemExit(f"{name} missing from the shell output:\n{output[-3000:]}")


def marker_json(output, name="BENCH_SETUP"):
    """The JSON a bench script printed after ``name``."""
    return json.loads(marker(output, name))


def sandbox_settings(app_id, app_secret, base_url, **extra):
    """``odoo-bin shell`` lines pointing the addon's Meta app at a simulator."""
    values = {
        "app_id": app_id,
        "app_secret": app_secret,
        "graph_base_url": base_url,
        **extra,
    }
    return f"env['meta.app']._meta_get().write({values!r})\n"


def page_connection(name, page_id, page_token, var="page"):
    """``odoo-bin shell`` lines: a connection with one Page asset, bound to
    ``var`` (no call to Meta: the Page token is the connection's too)."""
    return (
        "connection = env['meta.connection'].create("
        f"{{'name': {name!r}, 'access_token': {page_token!r}}})\n"
        f"{var} = env['meta.asset'].create({{'name': {name!r}, "
        "'connection_id': connection.id, 'asset_type': 'page', "
        f"'external_id': {page_id!r}, 'access_token': {page_token!r}}})\n"
    )


def post_signed(session, url, body, signature, timeout=30):
    """POST a webhook body as Meta does; return the response."""
    return session.post(
        url,
        data=body,
        timeout=timeout,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature,
        },
    )


def parse_summary(output):
    """Odoo's closing line: ``N failed, N error(s) of N tests``."""
    matches = SUMMARY_RE.findall(output)
    if not matches:
        return None
    failed, errors, total = (int(x) for x in matches[-1])
    return failed, errors, total


def _free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
