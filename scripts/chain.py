"""The local anvil chain: start, stop, status, deploy (a thin wrapper of contracts.localchain).

Run: .venv/bin/python scripts/chain.py {start,stop,status,deploy} [--data-dir var/chain]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.errors import RegistryError
from contracts.keystore import keystore_address
from contracts.localchain import (
    chain_status,
    ensure_deployed,
    start_chain,
    stop_chain,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Manage the local anvil chain.")
    parser.add_argument("--data-dir", type=Path, default=Path("var/chain"))
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start anvil (state kept in the data dir)")
    start.add_argument("--port", type=int, default=8545)
    start.add_argument("--chain-id", type=int, default=31337)
    commands.add_parser("stop", help="stop anvil (it dumps its state)")
    commands.add_parser("status", help="show whether anvil runs and the deployment")
    deploy = commands.add_parser("deploy", help="deploy the registry once, grant the roles")
    who = deploy.add_mutually_exclusive_group(required=True)
    who.add_argument("--issuer", help="issuer (and revoker) address")
    who.add_argument("--keystore", type=Path, help="read the issuer address from this keystore")
    return parser


def main() -> int:
    args = _parser().parse_args()
    try:
        return _run(args)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "start":
        node = start_chain(args.data_dir, port=args.port, chain_id=args.chain_id)
        print(f"anvil running at {node.rpc_url} (pid {node.pid}, chain {node.chain_id})")
    elif args.command == "stop":
        print("stopped" if stop_chain(args.data_dir) else "not running")
    elif args.command == "status":
        print(json.dumps(asdict(chain_status(args.data_dir)), indent=2, default=str))
    else:
        status = chain_status(args.data_dir)
        if not status.running or status.rpc_url is None:
            print("error: the chain is not running: start it first", file=sys.stderr)
            return 1
        issuer = args.issuer or keystore_address(args.keystore)
        deployment = ensure_deployed(args.data_dir, rpc_url=status.rpc_url, issuer_address=issuer)
        print(json.dumps(asdict(deployment), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
