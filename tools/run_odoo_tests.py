"""``make test-odoo``: install the addon in a fresh database and run its tests.

Usage: python tools/run_odoo_tests.py --odoo /path/to/odoo [--python PY]
       [--tags /meta_graph_connector] [--log FILE]

The tree is an Odoo 18.0 or 19.0 one (its series, read from its
``odoo/release.py``, picks the options that differ). Prints Odoo's summary
line (``N failed, N error(s) of N tests``) and exits non-zero on any failure,
error, or when no test ran.
"""

import argparse
import shutil
import subprocess
import sys

from odoo_harness import (
    ADDON,
    OdooHarness,
    ensure_simulator,
    parse_summary,
    series_label,
)


def warm_browser():
    """Open the browser once before the tests. Odoo skips a browser test
    whose browser has not opened its devtools port within 10 s, and the
    first start of Chromium on a fresh machine (caches, fonts) can take
    that long: one tour was skipped so."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            subprocess.run(
                [path, "--headless", "--no-sandbox", "--dump-dom", "about:blank"],
                capture_output=True,
                timeout=120,
                check=False,
            )
            return


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--odoo", required=True, help="Odoo 18.0 or 19.0 source tree")
    parser.add_argument("--python", default=None, help="Python with Odoo's deps")
    parser.add_argument("--tags", default=f"/{ADDON}")
    parser.add_argument("--log", default="odoo-tests.log")
    args = parser.parse_args()

    ensure_simulator(args.python or sys.executable)
    warm_browser()
    with OdooHarness(args.odoo, args.python) as odoo:
        print(f"Odoo {series_label(odoo.series)}: {odoo.odoo}", flush=True)
        code, output = odoo.run(
            "-i",
            # crm_iap_enrich comes with crm in a standard database (auto
            # install); it is here so the tests see what it does to leads
            f"{ADDON},crm_iap_enrich",
            f"--test-tags={args.tags}",
            "--stop-after-init",
            "--log-level=info",
            log_file=args.log,
        )
        # the addon must also uninstall cleanly (when it installed at all:
        # Odoo refuses to uninstall a module that is not installed)
        module = f"env['ir.module.module'].search([('name', '=', {ADDON!r})])"
        uninstall = odoo.shell(
            f"if {module}.state == 'installed':\n"
            f"    {module}.button_immediate_uninstall()\n"
            f"    print('UNINSTALLED', {module}.state)\n"
            "else:\n"
            f"    print('NOT_INSTALLED', {module}.state or 'unknown')"
        )
    for line in output.splitlines():
        # an addon Odoo does not take (a manifest for another series) says
        # so only in a warning
        if " ERROR " in line or " FAIL" in line or "installable=False" in line:
            print(line)
    summary = parse_summary(output)
    if summary is None:
        print(output[-3000:])
        print(f"No test summary found (odoo exit {code}); full log in {args.log}")
        return 1
    failed, errors, total = summary
    skipped = [
        line
        for line in output.splitlines()
        if f"{ADDON}.tests" in line and " skipped " in line
    ]
    print(f"Odoo tests: {failed} failed, {errors} error(s) of {total} tests")
    # Odoo counts a skipped test as run: say it, so it is never taken as passed.
    for line in skipped:
        print(line.split(" INFO ", 1)[-1])
    print(f"Skipped: {len(skipped)}")
    uninstalled = "UNINSTALLED uninstalled" in uninstall
    if "NOT_INSTALLED" in uninstall:
        state = uninstall.split("NOT_INSTALLED", 1)[1].split()[0]
        print(f"Uninstall: not tried, {ADDON} did not install (state {state})")
    else:
        print(f"Uninstall: {'clean' if uninstalled else 'FAILED'}")
    # the plain closing line CI tools read, whatever the test runner
    passed = total - failed - errors - len(skipped)
    print(f"odoo: {passed} passed, {failed + errors} failed, {len(skipped)} skipped")
    return (
        0 if (code == 0 and not failed and not errors and total and uninstalled) else 1
    )


if __name__ == "__main__":
    sys.exit(main())
