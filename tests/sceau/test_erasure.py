"""Erasure leaves nothing: after a revocation no file of the data folder, and no byte of the
database, holds the certificate's salt, its link keys or any stretch of its signed PDF."""

from __future__ import annotations

import base64
import dataclasses
import email
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from contracts.receipt import Receipt
from issuer.revocation import DeliveredCopies, Revocations, carry_out, decide, requests
from offchain_store.records import RequestState, make_engine
from sceau import compose
from sceau.delivery_commands import delivery_packs
from sceau.settings import Settings, load_settings
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.sceau.helpers import Delivered, read_outbox, run_sceau, subset_of_sample
from verifier.independent import verify_with_receipt
from verifier.report import Verdict

WINDOW = 64


# --- a Sceau whose letters stay in its own data folder -----------------------------------------


@pytest.fixture
def env(sceau_env: SceauEnv) -> SceauEnv:
    """The test set-up, with its letters folder inside the data folder too."""
    return with_letters_dir(sceau_env)


def with_letters_dir(sceau_env: SceauEnv) -> SceauEnv:
    letters = sceau_env.root / "letters"
    text = sceau_env.config_file.read_text()
    if "letters_dir" in text:  # the shared fixture sets it already
        return sceau_env
    sceau_env.config_file.write_text(f'letters_dir = "{letters}"\n{text}')
    return dataclasses.replace(sceau_env, settings=load_settings(sceau_env.config_file))


def erasing_revocations(settings: Settings) -> Revocations:
    """The composed revocations, with every place delivery leaves a copy."""
    copies = DeliveredCopies(
        receipts_dir=settings.receipts_dir,
        letters_dir=settings.letters_dir,
        outbox_dir=None if settings.mail.smtp_host else settings.mail.outbox,
        packs=delivery_packs(settings),
    )
    return dataclasses.replace(compose.revocations(settings), copies=copies)


# --- what must not survive, and where to look for it --------------------------------------------


@dataclasses.dataclass(frozen=True)
class Needles:
    """A certificate's secrets in every encoding the code writes them, and its PDF's windows."""

    values: dict[str, bytes]
    windows: frozenset[bytes]


def encodings(name: str, raw: bytes) -> dict[str, bytes]:
    return {
        f"{name} (raw)": raw,
        f"{name} (hex)": raw.hex().encode(),
        f"{name} (HEX)": raw.hex().upper().encode(),
        f"{name} (base64url)": base64.urlsafe_b64encode(raw).rstrip(b"="),
        f"{name} (base64)": base64.b64encode(raw).rstrip(b"="),
    }


def windows(data: bytes) -> set[bytes]:
    return {data[i : i + WINDOW] for i in range(len(data) - WINDOW + 1)}


def needles_of(
    pdf: bytes, receipt: Receipt, keys: dict[str, bytes], others: list[bytes]
) -> Needles:
    """Windows shared with a certificate that stays (fonts, the signer's chain) are not its own."""
    values = encodings("salt", bytes.fromhex(receipt.salt.removeprefix("0x")))
    for name, raw in keys.items():
        values |= encodings(name, raw)
    common = set().union(*(windows(other) for other in others))
    own = frozenset(windows(pdf) - common)
    assert len(own) > len(pdf) // 5, "the search is real: much of the PDF is its own"
    return Needles(values, own)


def views(path: Path) -> Iterator[tuple[str, bytes]]:
    """A file as stored, and as it reads once decoded: e-mail parts, PDF text and QR codes."""
    raw = path.read_bytes()
    yield "bytes", raw
    if path.suffix == ".eml" or raw.startswith(b"From:") or b"\nMIME-Version:" in raw[:4096]:
        message = email.message_from_bytes(raw, policy=policy.default)
        for index, part in enumerate(message.walk()):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                yield f"e-mail part {index}", payload
    if raw.startswith(b"%PDF"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
        yield "PDF text", re.sub(rb"\s+", b"", text.stdout)
        yield "PDF QR codes", qr_codes(path)


def qr_codes(pdf: Path) -> bytes:
    prefix = pdf.parent / f".qr-{pdf.stem}"
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(pdf), str(prefix)], check=True)
    found = b""
    for image in sorted(pdf.parent.glob(f"{prefix.name}*.png")):
        scan = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True)
        found += scan.stdout
        image.unlink()
    return found


def traces(root: Path, needles: Needles, database_url: str) -> list[str]:
    """Every place under `root` (files) and every row of the `database_url` database that
    still holds a needle."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for view, data in views(path):
            found += [
                f"{path.relative_to(root)} [{view}]: {n}"
                for n, v in needles.values.items()
                if v in data
            ]
            # A letter carries a link, never the PDF, but embeds font subsets built from the
            # same font files as the certificate: its byte windows are font data. Its keys and
            # salt are still searched above (text, QR codes, raw bytes).
            if path.parent.name == "letters":
                continue
            if any(data[i : i + WINDOW] in needles.windows for i in range(len(data) - WINDOW + 1)):
                found.append(f"{path.relative_to(root)} [{view}]: a window of the PDF")
    if database_url.startswith("sqlite"):
        return found + database_traces(Path(database_url.removeprefix("sqlite:///")), needles)
    return found + server_database_traces(database_url, needles)


def database_traces(db_file: Path, needles: Needles) -> list[str]:
    """The rows as SQLite returns them, every table and column."""
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        rows = {table: list(connection.execute(f'SELECT * FROM "{table}"')) for table in tables}
    return rows_traces(rows, needles)


def server_database_traces(database_url: str, needles: Needles) -> list[str]:
    """The rows as a database server (PostgreSQL) returns them, every table and column: its
    files live outside the data folder, so the file search above does not reach them."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = {
                table: list(connection.execute(text(f'SELECT * FROM "{table}"')))
                for table in inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()
    assert "certificates" in rows and "audit_log" in rows, "the search reads the real tables"
    return rows_traces(rows, needles)


def rows_traces(rows: dict[str, list[Any]], needles: Needles) -> list[str]:
    found = []
    for table, table_rows in rows.items():
        for row in table_rows:
            cells = [
                bytes(c) if isinstance(c, bytes | memoryview) else str(c).encode() for c in row
            ]
            found += [
                f"table {table}: {n}" for n, v in needles.values.items() for c in cells if v in c
            ]
    return found


# --- the test --------------------------------------------------------------------------------


def kept_by_candidate(message: Delivered) -> tuple[bytes, Receipt, str]:
    cert_id = message.receipt.certificate_id
    token = message.text.replace("=\n", "").split(f"/me/{cert_id}#")[1][:43]
    return message.pdf, message.receipt, token


def test_revocation_leaves_no_salt_key_or_pdf_byte_and_every_verifier_says_revoked(
    env: SceauEnv,
) -> None:
    settings = env.settings
    results = subset_of_sample(env.root / "results.csv", 3)
    assert run_sceau(env.config_file, "issue", str(results)).returncode == 0
    target, *others = read_outbox(settings.mail.outbox)
    cert_id = target.receipt.certificate_id
    pdf, receipt, token = kept_by_candidate(target)
    profile = compose.profile(settings)

    with TestClient(create_app(settings)) as api:
        link = api.post(
            f"/api/v1/me/{cert_id}/shares", json={"key": token, "recipient": "Employer"}
        ).json()["link"]
        share_id, share_token = link.split("/s/")[1].split("#")
        opened = api.post(f"/api/v1/shares/{share_id}/open", json={"key": share_token}).json()
        assert opened["report"]["verdict"] == "VALID"
        keys = {
            "candidate key": base64.urlsafe_b64decode(token + "="),
            "share key": base64.urlsafe_b64decode(share_token + "="),
        }
        needles = needles_of(pdf, receipt, keys, [m.pdf for m in others])
        before = traces(env.root, needles, settings.database_url)
        for where in ("receipts", "outbox", "table certificates"):  # the search finds them
            assert any(where in t and "salt" in t for t in before), (where, before)
        assert any("outbox" in t and "candidate key" in t for t in before)
        assert any("outbox" in t and "window of the PDF" in t for t in before)

        asked = api.post(
            f"/api/v1/me/{cert_id}/requests",
            json={"key": token, "kind": "erasure", "explanation": "I want it gone"},
        )
        assert asked.status_code == 201, asked.text
        engine = compose.database(settings)
        now = datetime.now(UTC)
        decide(engine, asked.json()["request_id"], approve=True, actor="test", note="ok", now=now)
        assert carry_out(erasing_revocations(settings), actor="test") == 1

        assert traces(env.root, needles, settings.database_url) == []

        shared = api.post(f"/api/v1/shares/{share_id}/open", json={"key": share_token}).json()
        assert shared["report"]["verdict"] == "REVOKED", shared
        dropped = api.post("/api/v1/verify", files={"file": ("kept.pdf", pdf)}).json()
        assert dropped["verdict"] == "REVOKED", dropped
        for other in others:  # the rest of the batch is untouched and opens
            _, _, other_token = kept_by_candidate(other)
            other_id = other.receipt.certificate_id
            mine = api.post(f"/api/v1/me/{other_id}", json={"key": other_token})
            assert mine.status_code == 200
            assert base64.b64decode(mine.json()["pdf_base64"]) == other.pdf
            assert (settings.receipts_dir / f"{other_id}.json").is_file() and other.path.is_file()

    independent = verify_with_receipt(pdf, receipt, rpc_url=env.chain.rpc_url, profile=profile)
    assert independent.verdict is Verdict.REVOKED
    for other in others:
        report = verify_with_receipt(
            other.pdf, other.receipt, rpc_url=env.chain.rpc_url, profile=profile
        )
        assert report.verdict is Verdict.VALID, report
    assert [r.state for r in requests(compose.database(settings))] == [RequestState.DONE]


def test_revoking_from_the_cli_erases_the_message_the_letter_and_the_receipt(env: SceauEnv) -> None:
    assert compose.revocations(env.settings).copies is not None
    from tests.sceau.test_delivery_pack import letters_in, results_without_email

    settings = env.settings
    results = results_without_email(env.root / "results.csv", 3, keep_email=1)
    assert run_sceau(env.config_file, "issue", str(results)).returncode == 0
    [mailed] = read_outbox(settings.mail.outbox)
    [pack_file] = settings.letters_dir.glob("pack-*.pdf")
    lettered = letters_in(pack_file)
    (by_letter, letter_token), (kept_id, kept_token) = sorted(lettered.items())
    pdf, receipt, token = kept_by_candidate(mailed)
    with TestClient(create_app(settings)) as api:
        pdfs = {
            i: base64.b64decode(api.post(f"/api/v1/me/{i}", json={"key": t}).json()["pdf_base64"])
            for i, t in lettered.items()
        }
    letter_receipt = Receipt.from_json((settings.receipts_dir / f"{by_letter}.json").read_bytes())
    needles = [
        needles_of(
            pdf, receipt, {"key": base64.urlsafe_b64decode(token + "=")}, list(pdfs.values())
        ),
        needles_of(
            pdfs[by_letter],
            letter_receipt,
            {"letter key": base64.urlsafe_b64decode(letter_token + "=")},
            [pdf, pdfs[kept_id]],
        ),
    ]
    for cert_id in (receipt.certificate_id, by_letter):
        revoked = run_sceau(
            env.config_file, "revoke", cert_id, "--reason", "issuer_error", "--note", "wrong"
        )
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr

    assert [traces(env.root, n, settings.database_url) for n in needles] == [[], []]
    assert letters_in(pack_file) == {kept_id: kept_token}
