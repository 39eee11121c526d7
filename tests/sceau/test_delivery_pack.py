"""Candidates without an e-mail address: letters in a delivery pack, downloaded and confirmed."""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.delivery_pack import pack_path, pending_packs
from issuer.revocation import carry_out, revoke_on_initiative
from offchain_store.records import CertificateRecord, CertificateState
from offchain_store.tokens import AdminRole
from sceau import compose
from sceau.delivery_commands import delivery_packs
from sceau.web import admin_delivery, admin_pages
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.sceau.helpers import REPO, SAMPLE, read_outbox, run_sceau
from tests.sceau.test_admin_pages import csrf_of, sign_in, token_for
from tests.sceau.test_erasure import (
    Needles,
    encodings,
    erasing_revocations,
    qr_codes,
    traces,
    with_letters_dir,
)

LINK = re.compile(rb"https://certs\.example\.test/me/([0-9a-f]{32})#([A-Za-z0-9_-]{43})")
REGISTER = (
    "import sys\n"
    "from sceau.cli import app, main\n"
    "from sceau.delivery_commands import letters_app\n"
    "if not any(group.name == 'letters' for group in app.registered_groups):\n"
    "    app.add_typer(letters_app, name='letters')\n"
    "main()\n"
)


def run_letters(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`sceau letters …` as a user runs it (registered here until the CLI lists it)."""
    return subprocess.run(
        [sys.executable, "-c", REGISTER, "--config", str(config), "letters", *args],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        env={k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
        | {"COLUMNS": "200"},
    )


def results_without_email(path: Path, rows: int, *, keep_email: int = 0, drop: str = "") -> Path:
    """The first rows of the sample; all but the first `keep_email` lose their e-mail address."""
    reader = csv.DictReader(io.StringIO(SAMPLE.read_text()))
    fields = [f for f in reader.fieldnames or [] if f != drop]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for index, row in zip(range(rows), reader, strict=False):
        if index >= keep_email:
            row["email"] = ""
        writer.writerow(row)
    path.write_text(out.getvalue())
    return path


def letters_in(pdf_file: Path) -> dict[str, str]:
    """Certificate id → link key, as printed (text) and as the QR codes carry them (both)."""
    text = subprocess.run(["pdftotext", str(pdf_file), "-"], capture_output=True, check=True)
    printed = {
        m[0].decode(): m[1].decode() for m in LINK.findall(re.sub(rb"\s+", b"", text.stdout))
    }
    scanned = {m[0].decode(): m[1].decode() for m in LINK.findall(qr_codes(pdf_file))}
    assert printed == scanned, "the printed links and the QR codes agree"
    return printed


def records(env: SceauEnv) -> dict[str, CertificateRecord]:
    with Session(compose.database(env.settings)) as session:
        found = {r.id: r for r in session.exec(select(CertificateRecord)).all()}
        session.expunge_all()
    return found


def test_letters_pack_opens_certificates_until_confirmed_then_nothing_is_kept(
    sceau_env: SceauEnv,
) -> None:
    env = with_letters_dir(sceau_env)
    results = results_without_email(env.root / "results.csv", 3, keep_email=1)
    issued = run_sceau(env.config_file, "issue", str(results))
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert len(read_outbox(env.settings.mail.outbox)) == 1  # the one with an address

    [pack] = pending_packs(delivery_packs(env.settings))
    assert pack.letters == 2
    path = pack_path(env.settings.letters_dir, pack.pack_id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    letters = letters_in(path)
    by_id = records(env)
    assert set(letters) == {i for i, r in by_id.items() if not r.candidate_email}

    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    for line in results.read_text().splitlines()[2:]:
        name, language = line.split(",")[1], line.split(",")[-1]
        assert name in text
        assert ("Votre lien personnel" if language == "fr" else "Your private link") in text

    listed = run_letters(env.config_file, "list")
    assert listed.returncode == 0 and pack.pack_id in listed.stdout, listed.stdout + listed.stderr
    download = env.root.parent / f"{env.root.name}-download" / "pack.pdf"
    written = run_letters(env.config_file, "pack", pack.pack_id, "--out", str(download))
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(download.stat().st_mode) == 0o600
    assert letters_in(download) == letters

    with TestClient(create_app(env.settings)) as api:
        for cert_id, token in letters.items():  # a working private link, before and after
            opened = api.post(f"/api/v1/me/{cert_id}", json={"key": token})
            assert opened.status_code == 200, opened.text
            assert base64.b64decode(opened.json()["pdf_base64"]).startswith(b"%PDF")

        confirmed = run_letters(env.config_file, "confirm", pack.pack_id)
        assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
        assert not path.exists() and pending_packs(delivery_packs(env.settings)) == []
        for cert_id, token in letters.items():
            assert api.post(f"/api/v1/me/{cert_id}", json={"key": token}).status_code == 200
            kept = records(env)[cert_id]
            assert kept.state == CertificateState.DELIVERED
            assert kept.pending_link_key is None and kept.staged_content is None

    again = run_letters(env.config_file, "confirm", pack.pack_id)
    assert again.returncode == 5 and "no letter is waiting" in again.stderr
    download.unlink()
    keys: dict[str, bytes] = {}
    for cert_id, token in letters.items():
        keys |= encodings(f"letter key of {cert_id}", base64.urlsafe_b64decode(token + "="))
    needles = Needles(keys, frozenset())
    # no link key left anywhere under the data folder or in the database
    assert traces(env.root, needles, env.settings.database_url) == []
    audit = run_sceau(env.config_file, "audit", "show", "--limit", "50")
    assert "letters.handed_over" in audit.stdout


def test_revoking_a_letter_rebuilds_its_pack_without_it(sceau_env: SceauEnv) -> None:
    env = with_letters_dir(sceau_env)
    results = results_without_email(env.root / "results.csv", 3, drop="message_language")
    assert run_sceau(env.config_file, "issue", str(results)).returncode == 0
    [pack] = pending_packs(delivery_packs(env.settings))
    path = pack_path(env.settings.letters_dir, pack.pack_id)
    letters = letters_in(path)
    assert len(letters) == 3
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert text.count("Votre lien personnel") == 3  # no language column: the issuer's French
    revoked_id, revoked_token = next(iter(letters.items()))
    salt = records(env)[revoked_id].salt
    assert salt is not None

    revoke_on_initiative(
        compose.database(env.settings),
        certificate_id=revoked_id,
        category="issuer_error",
        note="wrong level",
        actor="test",
        now=datetime.now(UTC),
    )
    assert carry_out(erasing_revocations(env.settings), actor="test") == 1

    remaining = letters_in(path)
    assert remaining == {i: t for i, t in letters.items() if i != revoked_id}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    needles = Needles(
        encodings("salt", bytes.fromhex(salt.removeprefix("0x")))
        | encodings("letter key", base64.urlsafe_b64decode(revoked_token + "=")),
        frozenset(),
    )
    assert traces(env.root, needles, env.settings.database_url) == []
    with TestClient(create_app(env.settings)) as api:
        gone = api.post(f"/api/v1/me/{revoked_id}", json={"key": revoked_token})
        assert gone.status_code == 410
        for cert_id, token in remaining.items():
            assert api.post(f"/api/v1/me/{cert_id}", json={"key": token}).status_code == 200


def test_admin_page_downloads_a_pack_and_confirms_its_hand_over(sceau_env: SceauEnv) -> None:
    env = with_letters_dir(sceau_env)
    results = results_without_email(env.root / "results.csv", 2)
    assert run_sceau(env.config_file, "issue", str(results)).returncode == 0
    [pack] = pending_packs(delivery_packs(env.settings))
    path = pack_path(env.settings.letters_dir, pack.pack_id)
    app = create_app(env.settings)
    paths = {getattr(route, "path", "") for route in app.routes}
    for router, route_path in (
        (admin_pages.router, "/admin/login"),
        (admin_delivery.router, "/admin/letters"),
    ):
        if route_path not in paths:  # until app.py includes it
            app.include_router(router)

    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        assert browser.get("/admin/letters").status_code == 303  # sign in first
        assert sign_in(browser, token_for(env, AdminRole.AUDITOR)).status_code == 303
        assert browser.get("/admin/letters").status_code == 403
        assert browser.get(f"/admin/letters/{pack.pack_id}.pdf").status_code == 403
        assert sign_in(browser, token_for(env, AdminRole.ISSUER)).status_code == 303

        page = browser.get("/admin/letters", headers={"Accept-Language": "en"})
        assert page.status_code == 200 and pack.pack_id in page.text
        assert "Letters to hand over" in page.text
        download = browser.get(f"/admin/letters/{pack.pack_id}.pdf")
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/pdf"
        assert "attachment" in download.headers["content-disposition"]
        copy = env.root.parent / f"{env.root.name}-download.pdf"
        copy.write_bytes(download.content)
        letters = letters_in(copy)
        copy.unlink()
        assert letters == letters_in(path) and len(letters) == 2
        assert browser.get(f"/admin/letters/{'0' * 32}.pdf").status_code == 404

        refused = browser.post(f"/admin/letters/{pack.pack_id}/confirm", data={"csrf": "0" * 64})
        assert refused.status_code == 403 and path.exists()
        done = browser.post(f"/admin/letters/{pack.pack_id}/confirm", data={"csrf": csrf_of(page)})
        assert done.status_code == 303 and done.headers["location"] == "/admin/letters?confirmed=2"
        assert not path.exists()
        after = browser.get(done.headers["location"], headers={"Accept-Language": "fr"})
        assert "Remise confirmée : 2 lettre(s)" in after.text and pack.pack_id not in after.text
        for cert_id, token in letters.items():  # the candidates' letters still open
            assert browser.post(f"/api/v1/me/{cert_id}", json={"key": token}).status_code == 200
    kept = records(env)
    assert all(kept[i].pending_link_key is None for i in letters)
