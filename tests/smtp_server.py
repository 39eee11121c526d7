"""An SMTP server of our own for the tests: aiosmtpd in a thread, one file per received message.

Every message accepted is kept, duplicates included (a re-send after a crash must show), as
`<arrival>-<random>.eml` with the envelope beside it in a `.json` file, each written whole.
Start it with the `smtp_server` fixture (import it into a test module or a conftest), or with
`start_smtp_server` for a server that outlives one test (the production-shape test).
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.ports import free_port


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server received it: its envelope, its bytes, parsed."""

    path: Path
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes = field(repr=False)
    peer: tuple[str, int] = ("", 0)  # the client's end of the connection it came on

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


def _write_whole(path: Path, content: bytes) -> None:
    """A reader sees the file complete or not at all."""
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(temp, path)


class _KeepEveryMessage:
    """The aiosmtpd handler: writes each accepted message and its envelope as files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._arrivals = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            stem = f"{next(self._arrivals):06d}-{uuid.uuid4().hex[:8]}"
        about = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": list(session.peer),  # the client's address and port: one per connection
        }
        _write_whole(self.directory / f"{stem}.json", json.dumps(about).encode())
        _write_whole(self.directory / f"{stem}.eml", bytes(envelope.original_content))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A running SMTP server on 127.0.0.1 that files every message it accepts."""

    host: str
    port: int
    directory: Path
    controller: Controller = field(repr=False)

    def received(self) -> list[ReceivedMessage]:
        """Every message received so far, in order of arrival."""
        found = []
        for path in sorted(self.directory.glob("[0-9]*.eml")):
            about = json.loads(path.with_suffix(".json").read_text())
            found.append(
                ReceivedMessage(
                    path=path,
                    mail_from=str(about["mail_from"]),
                    rcpt_tos=tuple(about["rcpt_tos"]),
                    raw=path.read_bytes(),
                    peer=(str(about["peer"][0]), int(about["peer"][1])),
                )
            )
        return found

    def mail_settings(self) -> dict[str, object]:
        """The `[mail]` settings that send through this server (no TLS: a test server)."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_starttls": False}

    def stop(self) -> None:
        """Stop the server thread."""
        self.controller.stop()


def start_smtp_server(directory: Path, *, login: tuple[str, str] | None = None) -> SmtpServer:
    """Start a server on a free port that files messages into `directory`; with `login`, it
    accepts AUTH with that user name and password (over plain text: a test server only)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    options: dict[str, Any] = {"enable_SMTPUTF8": True}  # as real relays: non-ASCII addresses
    if login is not None:
        options |= {"authenticator": _accepting(login), "auth_require_tls": False}
    controller = Controller(
        _KeepEveryMessage(directory), hostname="127.0.0.1", port=port, **options
    )
    controller.start()  # returns once the server answers
    return SmtpServer(host="127.0.0.1", port=port, directory=directory, controller=controller)


def _accepting(login: tuple[str, str]) -> Any:
    expected = (login[0].encode(), login[1].encode())

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == expected
        return AuthResult(success=ok, handled=False)

    return authenticate


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """An SMTP server for one test, filing into `tmp_path / "smtp"`."""
    server = start_smtp_server(tmp_path / "smtp")
    try:
        yield server
    finally:
        server.stop()
