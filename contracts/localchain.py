"""The local development chain: anvil (npm `@foundry-rs/anvil`) with its state on disk.

The data directory holds `state.json` (dumped every few seconds and at exit, reloaded at start,
so the chain survives restarts), `anvil.pid`, `node.json`, `anvil.log` and `deployment.json`.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from contracts.client import RegistryClient, Role, deploy_registry, make_web3
from contracts.errors import LocalChainError, RegistryError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_CHAIN_ID = 31337
# anvil's well-known development account #0 (from its public default mnemonic): local use only.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}  # anvils started by this process, to reap


@dataclass(frozen=True)
class LocalChain:
    """A running local node."""

    rpc_url: str
    chain_id: int
    pid: int
    data_dir: Path


@dataclass(frozen=True)
class ChainStatus:
    """What `chain_status` finds in a data directory."""

    running: bool
    pid: int | None
    rpc_url: str | None
    block_number: int | None
    deployment: dict[str, Any] | None


@dataclass(frozen=True)
class LocalDeployment:
    """The registry deployed on the local chain (the content of deployment.json)."""

    chain_id: int
    contract_address: str
    deployed_block: int
    rpc_url: str


def find_anvil(project_root: Path | None = None) -> Path:
    """The anvil binary installed by `npm ci` under node_modules; LocalChainError if absent."""
    root = (project_root or _PROJECT_ROOT).resolve()
    exe = "anvil.exe" if sys.platform == "win32" else "anvil"
    for base in (root, *root.parents):
        scope = base / "node_modules" / "@foundry-rs"
        preferred = scope / f"anvil-{_platform_tag()}" / "bin" / exe
        if preferred.is_file():
            return preferred
        found = sorted(scope.glob(f"anvil-*/bin/{exe}")) if scope.is_dir() else []
        if found:
            return found[0]
    raise LocalChainError(
        f"anvil is not installed under {root / 'node_modules'}: run `npm ci` at the repository "
        "root (it installs @foundry-rs/anvil and its platform binary)"
    )


def _platform_tag() -> str:
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, "linux")
    machine = platform.machine().lower()
    arch = "arm64" if machine in ("arm64", "aarch64") else "amd64"
    return f"{system}-{arch}"


def start_chain(
    data_dir: Path,
    *,
    port: int = 8545,
    host: str = DEFAULT_HOST,
    chain_id: int = DEFAULT_CHAIN_ID,
    state_interval: int = 5,
    anvil_path: Path | None = None,
    startup_timeout: float = 20.0,
    genesis_timestamp: int | None = None,
) -> LocalChain:
    """Start anvil on `host:port` with its state in `data_dir`; reuse it if already running.

    `genesis_timestamp` (Unix seconds) dates a new chain's genesis block, so that recorded
    examples can be replayed at their original block times."""
    data_dir.mkdir(parents=True, exist_ok=True)
    running = _running_pid(data_dir)
    if running is not None:
        return _existing_chain(data_dir, running)
    binary = anvil_path or find_anvil()
    rpc_url = f"http://{host}:{port}"
    _refuse_taken_port(host, port, data_dir)
    command = [
        str(binary), "--host", host, "--port", str(port), "--chain-id", str(chain_id),
        "--state", str(data_dir / "state.json"), "--state-interval", str(state_interval),
    ]  # fmt: skip
    if genesis_timestamp is not None:
        command += ["--timestamp", str(genesis_timestamp)]
    with open(data_dir / "anvil.log", "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    _CHILDREN[process.pid] = process
    (data_dir / "anvil.pid").write_text(f"{process.pid}\n")
    _write_json(data_dir / "node.json", {"rpc_url": rpc_url, "chain_id": chain_id})
    _wait_until_answering(process, rpc_url, data_dir, startup_timeout)
    return LocalChain(rpc_url=rpc_url, chain_id=chain_id, pid=process.pid, data_dir=data_dir)


def _refuse_taken_port(host: str, port: int, data_dir: Path) -> None:
    """Never deploy into a node that is not ours: something else already listens there."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            pass
    except OSError:
        return  # free: ours to take
    try:
        chain_id = int(make_web3(f"http://{host}:{port}", http_timeout=2.0).eth.chain_id)
        answer = f"a JSON-RPC node with chain id {chain_id}"
    except Exception:  # not a node at all, or a broken one: still not ours
        answer = "a program that is not an Ethereum node"
    raise LocalChainError(
        f"{host}:{port} is already taken by {answer}, which is not the local chain of "
        f"{data_dir} (no anvil of ours runs there). Nothing was deployed. Stop that program, or "
        "set chain.local_port to a free port; to use that node on purpose, set chain.rpc_url, "
        "chain.chain_id and chain.contract_address to a registry deployed there."
    )


def _existing_chain(data_dir: Path, pid: int) -> LocalChain:
    node = _read_json(data_dir / "node.json") or {}
    return LocalChain(
        rpc_url=str(node.get("rpc_url", "")),
        chain_id=int(node.get("chain_id", DEFAULT_CHAIN_ID)),
        pid=pid,
        data_dir=data_dir,
    )


def _wait_until_answering(
    process: subprocess.Popen[bytes], rpc_url: str, data_dir: Path, timeout: float
) -> None:
    web3 = make_web3(rpc_url, http_timeout=1.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            (data_dir / "anvil.pid").unlink(missing_ok=True)
            raise LocalChainError(
                f"anvil exited at start (code {process.returncode}): {_log_tail(data_dir)}"
            )
        if _answers(web3):
            return
        time.sleep(0.1)
    stop_chain(data_dir)
    raise LocalChainError(f"anvil did not answer on {rpc_url} within {timeout:g} s")


def _answers(web3: Web3) -> bool:
    try:
        web3.eth.chain_id  # noqa: B018 - a request, for its side effect of reaching the node
    except Exception:  # any failure means "not answering yet"
        return False
    return True


def _log_tail(data_dir: Path, lines: int = 5) -> str:
    try:
        text = (data_dir / "anvil.log").read_text(errors="replace")
    except OSError:
        return "(no log)"
    return " | ".join(text.strip().splitlines()[-lines:])


def stop_chain(data_dir: Path, *, timeout: float = 15.0) -> bool:
    """Stop the anvil of `data_dir` with SIGTERM (it dumps its state) and wait; False if none."""
    pid = _running_pid(data_dir)
    if pid is None:
        (data_dir / "anvil.pid").unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    if not _wait_for_exit(pid, timeout):
        os.kill(pid, signal.SIGKILL)  # the periodic dump keeps all but the last seconds
        _wait_for_exit(pid, 5.0)
    (data_dir / "anvil.pid").unlink(missing_ok=True)
    return True


def _wait_for_exit(pid: int, timeout: float) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        del _CHILDREN[pid]
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _running_pid(data_dir: Path) -> int | None:
    """The pid in `anvil.pid` if that process is alive and is anvil (pids get reused)."""
    try:
        pid = int((data_dir / "anvil.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    if not _alive(pid):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"anvil" not in cmdline.read_bytes():
        return None
    return pid


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and ") Z" in stat.read_text())


def chain_status(data_dir: Path) -> ChainStatus:
    """Whether the chain of `data_dir` runs, its URL, head block and deployment."""
    pid = _running_pid(data_dir)
    node = _read_json(data_dir / "node.json") or {}
    rpc_url = node.get("rpc_url")
    block = None
    if pid is not None and isinstance(rpc_url, str):
        try:
            block = int(make_web3(rpc_url, http_timeout=2.0).eth.block_number)
        except Exception:  # running but not answering: report, do not fail
            block = None
    return ChainStatus(
        running=pid is not None,
        pid=pid,
        rpc_url=rpc_url if isinstance(rpc_url, str) else None,
        block_number=block,
        deployment=_read_json(data_dir / "deployment.json"),
    )


def dev_account() -> LocalAccount:
    """anvil's funded development account #0 (public key material; local chains only)."""
    account: LocalAccount = Account.from_key(ANVIL_DEV_KEY)
    return account


def fund_account(rpc_url: str, address: str, *, wei: int = 100 * 10**18) -> None:
    """Give `address` a balance of `wei` on the local chain (anvil_setBalance)."""
    web3 = make_web3(rpc_url)
    checksum = Web3.to_checksum_address(address)
    try:
        response = web3.provider.make_request("anvil_setBalance", [checksum, hex(wei)])  # type: ignore[arg-type]
    except Exception as exc:
        raise LocalChainError(f"cannot fund {checksum} on {rpc_url}: {exc}") from None
    if "error" in response:
        raise LocalChainError(f"cannot fund {checksum}: {response['error']}")


def ensure_deployed(
    data_dir: Path,
    *,
    rpc_url: str,
    issuer_address: str,
    revoker_address: str | None = None,
    admin: LocalAccount | None = None,
) -> LocalDeployment:
    """Deploy the registry once (issuer and revoker roles granted) and record deployment.json."""
    web3 = make_web3(rpc_url)
    existing = _reusable_deployment(data_dir, web3)
    if existing is not None:
        return existing
    admin = admin or dev_account()
    try:
        deployment = deploy_registry(web3, admin, admin.address)
        client = RegistryClient(web3=web3, address=deployment.address, account=admin)
        client.grant_role(Role.ISSUER, issuer_address)
        client.grant_role(Role.REVOKER, revoker_address or issuer_address)
    except RegistryError as exc:
        raise LocalChainError(f"cannot deploy the registry on {rpc_url}: {exc}") from exc
    fund_account(rpc_url, issuer_address)
    if revoker_address:
        fund_account(rpc_url, revoker_address)
    record = LocalDeployment(
        chain_id=deployment.chain_id,
        contract_address=deployment.address,
        deployed_block=deployment.block_number,
        rpc_url=rpc_url,
    )
    _write_json(data_dir / "deployment.json", asdict(record))
    return record


def _reusable_deployment(data_dir: Path, web3: Web3) -> LocalDeployment | None:
    """The recorded deployment if its chain is this one and its code is still there."""
    doc = _read_json(data_dir / "deployment.json")
    if doc is None:
        return None
    try:
        record = LocalDeployment(**doc)
        same_chain = int(web3.eth.chain_id) == record.chain_id
        address = Web3.to_checksum_address(record.contract_address)
        has_code = same_chain and len(web3.eth.get_code(address)) > 0
    except (TypeError, ValueError):
        return None
    except Exception as exc:  # the node itself is unreachable: say so
        raise LocalChainError(f"the local chain does not answer: {exc}") from None
    return record if has_code else None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
