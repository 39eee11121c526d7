"""One chain node, asked in raw JSON-RPC over kept-alive HTTP connections: no web3, no middleware.

web3's default middleware sends `eth_chainId` around calls and builds contract objects per
read; a verifier needs a handful of read-only methods, so it posts them itself and decodes the
answers (`verifier.registry_reads`). The HTTP is the standard library's (requests costs a tenth
of a second to import, more than `sceau verify` spends on the chain). Failures become the typed
errors of `contracts.errors`: `RpcUnavailable` (no answer) or `RegistryError` (an unusable one).
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from contracts.errors import RegistryError, RpcUnavailable
from verifier.turns import waiting

DEFAULT_TIMEOUT = 5.0
_NO_ANSWER = (OSError, http.client.HTTPException)


class RpcRefused(RegistryError):
    """The node answered with a JSON-RPC error (a revert, a pruned state, an unknown method)."""

    def __init__(self, message: str, *, code: int | None) -> None:
        super().__init__(message)
        self.code = code


class ChainNode:
    """A JSON-RPC node at `url`: one `HttpSession` (a kept-alive connection per thread), shared
    by the threads of the process; every `request` is one HTTP POST."""

    def __init__(
        self, url: str, *, timeout: float = DEFAULT_TIMEOUT, session: HttpSession | None = None
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.session = session or HttpSession(url)
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


class HttpAnswer:
    """The body of an HTTP answer, whatever its status: a JSON-RPC error comes as JSON too."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not."""
        return json.loads(self.body)


class HttpSession:
    """POSTs of JSON to one node over kept-alive connections, one per thread, through the
    proxy the environment names for the node's URL (read once, as requests did)."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the node's URL is not an http(s) URL")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._proxy = _proxy_for(url, parts)
        self._local = threading.local()

    def post(self, url: str, *, json: object, timeout: float) -> HttpAnswer:
        """POST `json` to the node; OSError or http.client.HTTPException without an answer.

        A kept-alive connection the node closed meanwhile fails before any answer: the request
        is sent once more on a new one (every method a verifier sends only reads).
        """
        body = _json_bytes(json)
        target = url if self._proxy and not self._https else self._path
        for attempt in (1, 2):
            connection, reused = self._connection(timeout)
            try:
                with waiting():  # a server's thread gives its turn away meanwhile
                    connection.request("POST", target, body, {"Content-Type": "application/json"})
                    answer = connection.getresponse()
                    content = answer.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.CannotSendRequest):
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            except _NO_ANSWER:
                self.close()
                raise
            if answer.will_close:
                self.close()
            return HttpAnswer(content)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close this thread's connection (the next POST opens a new one)."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            return connection, True
        connection = self._connect(timeout)
        self._local.connection = connection
        return connection, False

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        if self._proxy is None:
            return kind(self._host, self._port, timeout=timeout)
        proxy_host, proxy_port = self._proxy
        connection = kind(proxy_host, proxy_port, timeout=timeout)
        if self._https:
            connection.set_tunnel(self._host, self._port)
        return connection


def _proxy_for(url: str, parts: urllib.parse.SplitResult) -> tuple[str, int | None] | None:
    """The (host, port) of the environment's proxy for `url` (HTTP(S)_PROXY, NO_PROXY), or None."""
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.netloc):
        return None
    where = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return (where.hostname, where.port) if where.hostname else None


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


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
