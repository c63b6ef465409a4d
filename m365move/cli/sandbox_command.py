"""``m365move sandbox serve``: the embedded sandbox (DESIGN §7) as a local HTTP server."""

from __future__ import annotations

import argparse
import os
import sys

from m365move.cli.option_types import whole_number
from m365move.estate import load_estate
from m365move.sandbox.auth import SandboxCredentials
from m365move.sandbox.faults import Faults, load_faults
from m365move.sandbox.server import LOOPBACK, serve


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = subparsers.add_parser("sandbox", help="run the local sandbox that emulates the platforms")
    commands = sandbox.add_subparsers(dest="sandbox_command", metavar="SANDBOX_COMMAND", required=True)
    parser = commands.add_parser(
        "serve",
        help="serve the sandbox on loopback until Ctrl+C",
        description=(
            "Serve Commerce SimpleAPI 1.15 (and the other emulated APIs) seeded from an estate file. "
            "Credentials: user, password and subscription key 'sandbox', or M365MOVE_SANDBOX_USER, "
            "M365MOVE_SANDBOX_PASSWORD, M365MOVE_SANDBOX_SUBSCRIPTION_KEY. Admin endpoints under /_sandbox/ "
            "(HTTP Basic with the same user and password). Request bodies are limited to 1 MiB (413)."
        ),
    )
    parser.add_argument("--estate", required=True, metavar="FILE", help="estate file (YAML or JSON) to seed from")
    parser.add_argument("--faults", metavar="FILE", help="fault injection file (YAML or JSON)")
    parser.add_argument("--port", type=whole_number(0, 65535), default=8080,
                        help="port on 127.0.0.1 (0: any free port; default 8080)")
    parser.add_argument("--host", default=LOOPBACK, help=argparse.SUPPRESS)
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="keep the state in this JSON file; an existing file is resumed (wins over --estate)",
    )
    parser.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    document = load_estate(args.estate).document
    faults = load_faults(args.faults) if args.faults else Faults()
    defaults = SandboxCredentials()
    credentials = SandboxCredentials(
        user=os.environ.get("M365MOVE_SANDBOX_USER", defaults.user),
        password=os.environ.get("M365MOVE_SANDBOX_PASSWORD", defaults.password),
        subscription_key=os.environ.get("M365MOVE_SANDBOX_SUBSCRIPTION_KEY", defaults.subscription_key),
    )

    def announce(url: str) -> None:
        print(f"m365move sandbox: Commerce SimpleAPI on {url} (user {credentials.user!r}); Ctrl+C stops", flush=True)

    try:
        serve(
            document,
            faults,
            state_file=args.state,
            port=args.port,
            host=args.host,
            credentials=credentials,
            announce=announce,
        )
    except KeyboardInterrupt:
        print("m365move sandbox: stopped", file=sys.stderr)
    return 0
