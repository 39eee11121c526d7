"""Running the real `sceau` command and reading what it delivered."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from pathlib import Path

from sqlalchemy import MetaData
from sqlmodel import Session, select

from contracts.receipt import Receipt
from offchain_store.records import CertificateRecord, create_schema, make_engine

REPO = Path(__file__).parents[2]
SAMPLE = REPO / "sceau" / "samples" / "results-sample.csv"


def run_sceau(
    config: Path, *args: str, timeout: float = 180, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m sceau --config CONFIG ARGS…` as a user would, with no stdin."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    env["COLUMNS"] = "200"
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "sceau", "--config", str(config), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_module(module: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass(frozen=True)
class Delivered:
    """One message from the outbox: its recipient, link, PDF and receipt."""

    path: Path
    to: str
    text: str
    pdf: bytes
    receipt: Receipt


def read_outbox(outbox: Path) -> list[Delivered]:
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        attachments = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
        pdf = next(v for k, v in attachments.items() if k and k.endswith(".pdf"))
        receipt = next(v for k, v in attachments.items() if k and k.endswith(".json"))
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        messages.append(
            Delivered(
                path=path,
                to=str(message["To"]),
                text=body.get_content(),
                pdf=pdf,
                receipt=Receipt.from_json(receipt),
            )
        )
    return messages


def certificates(database_url: str) -> list[CertificateRecord]:
    engine = make_engine(database_url)
    create_schema(engine)
    with Session(engine) as session:
        found = list(session.exec(select(CertificateRecord)).all())
    engine.dispose()
    return found


def stored_values(database_url: str) -> Iterator[tuple[str, bytes]]:
    """Each value of each row of each table, read back through SQL, as bytes."""
    engine = make_engine(database_url)
    tables = MetaData()
    tables.reflect(engine)
    try:
        with engine.connect() as connection:
            for table in tables.sorted_tables:
                for row in connection.execute(table.select()):
                    for value in row:
                        if isinstance(value, bytes | memoryview):
                            yield table.name, bytes(value)
                        elif value is not None:
                            yield table.name, str(value).encode()
    finally:
        engine.dispose()


def database_contents(database_url: str) -> list[bytes]:
    """What the database holds, as someone with its storage would read it: on SQLite the bytes
    of its files (main, journal), on a server (PostgreSQL), whose files live elsewhere, every
    row's values end to end, so that values that touch in a row are searched across too."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        return [p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file()]
    return [b"".join(value for _, value in stored_values(database_url))]


def subset_of_sample(path: Path, rows: int) -> Path:
    lines = SAMPLE.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: rows + 1]))
    return path


def as_json(text: str) -> object:
    return json.loads(text)
