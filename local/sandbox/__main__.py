"""`python -m local.sandbox --people 2000 --seed 7 --port 4010 --app-id ID --secret S`: serve a sandbox."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from local.sandbox.app import Sandbox, SandboxConfig
from local.sandbox.data import SandboxSettings
from local.sandbox.server import SandboxServer

logger = logging.getLogger("local.sandbox")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox", description="A local Planning Center.")
    parser.add_argument("--people", type=int, default=200, help="people to generate (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--port", type=int, default=4010, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--app-id", default="sandbox-app-id", help="HTTP Basic user the API accepts")
    parser.add_argument("--secret", default="sandbox-secret", help="HTTP Basic password the API accepts")
    parser.add_argument("--data", help="load this dataset JSON file instead of generating")
    parser.add_argument("--save", help="write the dataset to this JSON file, then serve")
    parser.add_argument("--webhook-secret", help="authenticity secret for every webhook subscription")
    parser.add_argument("--rate-limit", type=int, default=100, help="requests per period (default 100)")
    parser.add_argument("--rate-period", type=int, default=20, help="rate limit period, seconds (default 20)")
    parser.add_argument("--no-rate-limit", action="store_true", help="never answer 429")
    parser.add_argument(
        "--deep-offset-limit", type=int, default=10, help="requests per period past the deep offset (10)"
    )
    parser.add_argument(
        "--deep-offset-threshold", type=int, default=30000, help="offsets above this are deep (30000)"
    )
    parser.add_argument(
        "--deep-offset-honest-headers",
        action="store_true",
        help="report the deep limit in the rate headers (PCO reports the normal one)",
    )
    parser.add_argument(
        "--gender-style", choices=("long", "short"), default="long", help="Male/Female or M/F"
    )
    parser.add_argument(
        "--groups-person-id-offset", type=int, default=0, help="Groups person id = People id + N"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    config = SandboxConfig(
        app_id=args.app_id,
        secret=args.secret,
        webhook_secret=args.webhook_secret,
        people=args.people,
        seed=args.seed,
        data_file=args.data,
        rate_limit=args.rate_limit,
        rate_period=args.rate_period,
        rate_limit_enabled=not args.no_rate_limit,
        deep_offset_limit=args.deep_offset_limit,
        deep_offset_threshold=args.deep_offset_threshold,
        deep_offset_honest_headers=args.deep_offset_honest_headers,
        settings=SandboxSettings(
            gender_style=args.gender_style, groups_person_id_offset=args.groups_person_id_offset
        ),
    )
    sandbox = Sandbox.create(config)
    if args.save:
        sandbox.store.save_file(args.save)
    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with SandboxServer(sandbox, port=args.port, deliver_webhooks=True) as server:
        # The one line scripts wait for: the URL to point PCO_BASE_URL at.
        sys.stdout.write(f"PCO sandbox listening on {server.url}\n")
        sys.stdout.flush()
        logger.info("%d people, seed %d, app id %s", sandbox.store.count("Person"), args.seed, args.app_id)
        stopping.wait()
    logger.info("PCO sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
