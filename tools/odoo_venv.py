"""Odoo's Python environment, made once from the Odoo tree you point at.

``python3 tools/odoo_venv.py --odoo /path/to/odoo-18.0 [--venv .odoo-venv]``
(an Odoo 18.0 or 19.0 tree)
creates a virtual environment with the tree's ``requirements.txt`` (plus what
the addon and its browser tests need) the first time, and only prints its
Python's path afterwards; the Makefile uses it when ``ODOO_PYTHON`` is not
given. It never fetches or builds Odoo itself: it reads the tree you have.

A stamp in the environment records the hash of the requirements it was made
from; when they change (another Odoo tree, new constraints), it is made again.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONSTRAINTS = REPO / "tools" / "odoo-venv-constraints.txt"
#: What the addon and the tests need on top of Odoo's own requirements.
EXTRA = ("phonenumbers", "websocket-client")
#: Debian packages whose headers Odoo's requirements build against.
HEADERS = {
    "libpq-dev": lambda: shutil.which("pg_config"),
    "libldap2-dev": lambda: Path("/usr/include/ldap.h").exists(),
    "libsasl2-dev": lambda: Path("/usr/include/sasl/sasl.h").exists(),
}
STAMP = ".meta-graph-connector-stamp"


def requirements_hash(odoo):
    digest = hashlib.sha256()
    for path in (Path(odoo) / "requirements.txt", CONSTRAINTS):
        digest.update(path.read_bytes())
    digest.update(" ".join(EXTRA).encode())
    return digest.hexdigest()


def venv_python(venv):
    return Path(venv) / "bin" / "python"


def is_current(venv, odoo):
    stamp = Path(venv) / STAMP
    return (
        venv_python(venv).exists()
        and stamp.exists()
        and stamp.read_text().strip() == requirements_hash(odoo)
    )


def missing_headers():
    return [package for package, present in HEADERS.items() if not present()]


def build(venv, odoo, python):
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info >= (3, 10))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if version != "True":
        raise SystemExit(
            f"{python} is older than Python 3.10, which Odoo 18.0 and 19.0 need"
        )
    missing = missing_headers()
    if missing:
        raise SystemExit(
            "Odoo's requirements build against system headers that are missing: "
            f"install the Debian packages {' '.join(missing)} first "
            f"(apt-get install {' '.join(missing)})."
        )
    print(f"Creating Odoo's virtual environment in {venv} (once, a few minutes)…")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv_python(venv)), "-m", "pip", "install", "--quiet"]
    # setuptools<70 applies to the packages' own build environments too,
    # through PIP_CONSTRAINT; some pinned requirements build only with it
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as build_file:
        build_file.write("setuptools<70\n")
    env = {**os.environ, "PIP_CONSTRAINT": build_file.name}
    try:
        subprocess.run([*pip, "setuptools<70", "wheel"], check=True, env=env)
        subprocess.run(
            [
                *pip,
                "-r",
                str(Path(odoo) / "requirements.txt"),
                "-c",
                str(CONSTRAINTS),
                *EXTRA,
            ],
            check=True,
            env=env,
        )
        # the fixes of the constraints file, where requirements left them open
        subprocess.run([*pip, "-r", str(CONSTRAINTS)], check=True, env=env)
    finally:
        os.unlink(build_file.name)
    (Path(venv) / STAMP).write_text(requirements_hash(odoo) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--odoo", required=True, help="an Odoo 18.0 or 19.0 source tree"
    )
    parser.add_argument("--venv", default=str(REPO / ".odoo-venv"))
    parser.add_argument("--python", default="python3")
    args = parser.parse_args(argv)
    odoo = Path(args.odoo).resolve()
    if not (odoo / "odoo-bin").exists() or not (odoo / "requirements.txt").exists():
        raise SystemExit(
            f"{odoo} is not an Odoo source tree (odoo-bin, requirements.txt)"
        )
    venv = Path(args.venv).resolve()
    if not is_current(venv, odoo):
        build(venv, odoo, args.python)
    print(venv_python(venv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
