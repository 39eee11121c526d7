"""One chain node, asked in raw JSON-RPC over one kept-alive HTTP session: no web3, no middleware.

web3's default middleware sends `eth_chainId` around calls and builds contract objects per
read; a verifier needs a handful of read-only methods, so it posts them itself and decodes the
answers with eth_abi (`verifier.registry_reads`). Failures become the typed errors of
`contracts.errors`: `RpcUnavailable` (no answer) or `RegistryError` (an unusable answer).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from contracts.errors import RegistryError, RpcUnavailable

DEFAULT_TIMEOUT = 5.0
POOL_SIZE = 64  # concurrent requests of one process to one node (the web server's threads)
_NO_ANSWER = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, OSError)


class RpcRefused(RegistryError):
    """The node answered with a JSON-RPC error (a revert, a pruned state, an unknown method)."""

    def __init__(self, message: str, *, code: int | None) -> None:
        super().__init__(message)
        self.code = code


class ChainNode:
    """A JSON-RPC node at `url`: one `requests.Session` (kept-alive connections), shared by
    the threads of the process; every `request` is one HTTP POST."""

    def __init__(
        self, url: str, *, timeout: float = DEFAULT_TIMEOUT, session: requests.Session | None = None
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.session = session or _session(url)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def request(self, method: str, params: list[Any]) -> Any:
        """The `result` of `method`; RpcUnavailable without an answer, RpcRefused on an error."""
        with self._lock:
            request_id = next(self._ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        try:
            response = self.session.post(self.url, json=body, timeout=self.timeout)
            answer = response.json()
        except _NO_ANSWER as exc:
            raise RpcUnavailable(f"the chain node did not answer ({method}): {exc}") from None
        except ValueError:
            raise RegistryError(f"the chain node's answer to {method} is not JSON") from None
        if not isinstance(answer, Mapping):
            raise RegistryError(f"the chain node's answer to {method} is not an object")
        error = answer.get("error")
        if error is not None:
            code = error.get("code") if isinstance(error, Mapping) else None
            message = error.get("message") if isinstance(error, Mapping) else error
            raise RpcRefused(f"the chain node refused {method}: {message}", code=code)
        if "result" not in answer:
            raise RegistryError(f"the chain node's answer to {method} has no result")
        return answer["result"]

    def chain_id(self) -> int:
        """`eth_chainId`."""
        return _quantity(self.request("eth_chainId", []), "eth_chainId")

    def code(self, address: str) -> bytes:
        """`eth_getCode` of `address` at the latest block."""
        return _data(self.request("eth_getCode", [address, "latest"]), "eth_getCode")

    def call(self, to: str, data: bytes, block: int | str = "latest") -> bytes:
        """`eth_call` of `data` on contract `to` at `block` (a number, or a tag)."""
        at = hex(block) if isinstance(block, int) else block
        result = self.request("eth_call", [{"to": to, "data": "0x" + data.hex()}, at])
        return _data(result, "eth_call")

    def transaction_receipt(self, tx_hash: str) -> Mapping[str, Any] | None:
        """`eth_getTransactionReceipt` as the node sends it (hex strings), or None if unknown."""
        result = self.request("eth_getTransactionReceipt", [tx_hash])
        if result is not None and not isinstance(result, Mapping):
            raise RegistryError("the chain node's transaction receipt is not an object")
        return result

    def close(self) -> None:
        self.session.close()


def _session(url: str) -> requests.Session:
    session = requests.Session()
    # The proxy settings of the environment, read once: requests would scan os.environ per POST.
    session.proxies.update(requests.utils.get_environ_proxies(url))
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _quantity(value: object, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RegistryError(f"the chain node's answer to {what} is not a quantity")
    try:
        return int(value, 16)
    except ValueError:
        raise RegistryError(f"the chain node's answer to {what} is not a quantity") from None


def _data(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RegistryError(f"the chain node's answer to {what} is not hex data")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise RegistryError(f"the chain node's answer to {what} is not hex data") from None
