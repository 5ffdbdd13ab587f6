"""`make run`: the whole system on 127.0.0.1 (PCO sandbox, moto, real handlers, API stand-in, admin page).

python -m local.stack                     run until Ctrl-C / SIGTERM
python -m local.stack token --role ROLE   print a bearer token for the running stack
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from local.stack.auth import DEFAULT_KEY_PATH, load_or_create_key
from local.stack.settings import RunSettings, SettingError, claim_ports


def run() -> int:
    # Settings and ports first, before the heavy imports: a busy port is a one-line error at once.
    try:
        settings = RunSettings.from_env(os.environ)
        claims = claim_ports(settings.ports())
    except SettingError as exc:
        sys.stderr.write(f"make run: {exc}\n")
        return 2
    from local.stack.runner import run_stack

    return run_stack(settings, claims)


def token(role: str, *, email: str | None, ttl: int) -> int:
    from local.stack.assembly import TEMPLATE_PATH, dev_issuer
    from local.stack.template import Template

    template = Template.load(TEMPLATE_PATH)
    issuer = dev_issuer(template, load_or_create_key(DEFAULT_KEY_PATH))
    print(issuer.issue_token(role, email=email, ttl=ttl))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    token_cmd = sub.add_parser("token", help="print a bearer token for the running local stack")
    token_cmd.add_argument("--role", default="TECH_ADMIN")
    token_cmd.add_argument("--email", default=None)
    token_cmd.add_argument("--ttl", type=int, default=8 * 3600, help="seconds")
    args = parser.parse_args(argv)
    if args.command == "token":
        return token(args.role, email=args.email, ttl=args.ttl)
    return run()


if __name__ == "__main__":
    code = main()
    # Every part is stopped by now: skip the interpreter's teardown of moto's and the sandbox's in-memory
    # data, which alone takes seconds after a Ctrl-C.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
