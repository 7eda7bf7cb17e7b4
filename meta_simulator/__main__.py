"""``python -m meta_simulator``: run the simulator in the foreground.

Prints one JSON line on stdout (``base_url`` plus the demo fixture ids and
tokens) so scripts can read it; a human-readable note goes to stderr.
"""

import argparse
import json
import signal
import sys
import threading

from .fixtures import DEMO_VERIFY_TOKEN, demo
from .simulator import MetaSimulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m meta_simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--app-id", default="111111")
    parser.add_argument("--app-secret", default="sim_app_secret")
    parser.add_argument(
        "--no-appsecret-proof",
        action="store_true",
        help="do not require appsecret_proof (a given one is still checked)",
    )
    parser.add_argument("--fixture", choices=["demo"], default=None)
    parser.add_argument("--state-file", help="also write the JSON line here")
    parser.add_argument("--callback-url", help="app-level webhook callback URL")
    parser.add_argument("--verify-token", default=DEMO_VERIFY_TOKEN)
    parser.add_argument(
        "--oauth-redirect-uri",
        action="append",
        default=[],
        help="a Valid OAuth Redirect URI of the app (repeatable)",
    )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    seed = int(args.seed) if args.seed.isdigit() else args.seed
    sim = MetaSimulator(
        seed=seed,
        app_id=args.app_id,
        app_secret=args.app_secret,
        require_appsecret_proof=not args.no_appsecret_proof,
        port=args.port,
        host=args.host,
    )
    sim.start()
    info = demo(sim) if args.fixture == "demo" else {"base_url": sim.base_url}
    if args.oauth_redirect_uri:
        info["oauth_redirect_uris"] = sim.set_oauth_redirect_uris(
            args.oauth_redirect_uri
        )
    if args.callback_url:
        sim.set_callback(args.callback_url, args.verify_token)
        info["callback_url"] = args.callback_url
    line = json.dumps(info, ensure_ascii=False)
    if args.state_file:
        with open(args.state_file, "w", encoding="utf-8") as handle:
            handle.write(line + "\n")
    print(line, flush=True)
    print(f"Meta simulator serving at {sim.base_url}", file=sys.stderr, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
