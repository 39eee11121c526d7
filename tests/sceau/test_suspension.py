"""Suspension end to end on the real chain: every verifier says SUSPENDED with its reason,
lifting gives VALID again, revoking a suspended certificate gives REVOKED and shreds it; and
the served status list, read by an independent library, agrees with the chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from contracts.client import PreparedTransaction, RegistryClient, Role
from issuer.revocation import carry_out as carry_out_revocations
from issuer.revocation import revoke_on_initiative
from issuer.status_list import StatusListPublication, publish_status_list, reference_of
from issuer.suspension import Suspensions, carry_out, suspend, unsuspend
from offchain_store.statuses import ChangeState, SuspensionChangeRecord
from offchain_store.tokens import AdminRole, create_token
from sceau import compose
from sceau.settings import Settings, load_settings
from sceau.web.app import create_app
from tests.conftest import SceauEnv
from tests.ports import free_port
from tests.sceau.helpers import (
    REPO,
    Delivered,
    read_outbox,
    run_module,
    run_sceau,
    subset_of_sample,
)
from verifier.report import (
    CheckName,
    CheckResult,
    CheckStatus,
    Verdict,
    VerificationReport,
    build_report,
    decide,
)

NOW = datetime.now(UTC)

# The real `sceau` entry point, with the suspension commands registered if cli.py lacks them.
CLI = """
from sceau import cli
from sceau.suspension_commands import suspend_command, unsuspend_command
names = {command.name for command in cli.app.registered_commands}
if "suspend" not in names:
    cli.app.command("suspend")(suspend_command)
    cli.app.command("unsuspend")(unsuspend_command)
cli.main()
"""


def run_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`sceau --config CONFIG ARGS…` as a user runs it (see tests.sceau.helpers.run_sceau)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCEAU_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-c", CLI, "--config", str(config), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )


def suspensions(settings: Settings) -> Suspensions:
    return compose.suspensions(settings, engine=compose.database(settings))


def status_list_publication(settings: Settings) -> StatusListPublication:
    return compose.status_list_publication(settings, engine=compose.database(settings))


def may_suspend(env: SceauEnv) -> None:
    """The revoking account also holds SUSPENDER_ROLE (granted by the registry's admin)."""
    admin = env.chain.client(env.chain.admin)
    if not admin.has_role(Role.SUSPENDER, env.chain.revoker.address):
        admin.grant_role(Role.SUSPENDER, env.chain.revoker.address)


@dataclass(frozen=True)
class Issued:
    env: SceauEnv
    api: TestClient
    messages: list[Delivered]

    def key(self, index: int) -> str:
        cert_id = self.messages[index].receipt.certificate_id
        return self.messages[index].text.split(f"/me/{cert_id}#")[1][:43]

    def id(self, index: int) -> str:
        return self.messages[index].receipt.certificate_id

    def share(self, index: int) -> tuple[str, str]:
        body = {"key": self.key(index), "recipient": "ACME RH"}
        created = self.api.post(f"/api/v1/me/{self.id(index)}/shares", json=body)
        assert created.status_code == 201, created.text
        share_id, share_key = created.json()["link"].split("/s/")[1].split("#")
        return share_id, share_key

    def open_share(self, share: tuple[str, str]) -> dict[str, Any]:
        opened = self.api.post(f"/api/v1/shares/{share[0]}/open", json={"key": share[1]})
        assert opened.status_code == 200, opened.text
        return dict(opened.json())

    def dropped(self, index: int) -> dict[str, Any]:
        pdf = self.messages[index].pdf
        answer = self.api.post("/api/v1/verify", files={"file": ("c.pdf", pdf)})
        return dict(answer.json())


def issue(env: SceauEnv, rows: int) -> list[Delivered]:
    results = subset_of_sample(env.root / "results.csv", rows)
    done = run_sceau(env.config_file, "issue", str(results))
    assert done.returncode == 0, done.stderr
    may_suspend(env)
    return sorted(read_outbox(env.settings.mail.outbox), key=lambda m: m.receipt.certificate_id)


@pytest.fixture
def issued(sceau_env: SceauEnv) -> Iterator[Issued]:
    messages = issue(sceau_env, 2)
    with TestClient(create_app(sceau_env.settings)) as api:
        yield Issued(sceau_env, api, messages)


def sceau_verify(issued: Issued, index: int, tmp: Path) -> tuple[int, dict[str, Any]]:
    """`sceau verify` on its own: the PDF, its receipt and the chain, nothing of our server."""
    pdf, receipt = tmp / f"c{index}.pdf", tmp / f"c{index}.json"
    pdf.write_bytes(issued.messages[index].pdf)
    receipt.write_bytes(issued.messages[index].receipt.to_json())
    args = (str(pdf), "--receipt", str(receipt), "--rpc", issued.env.chain.rpc_url, "--json")
    done = run_module("sceau.verify_command", *args)
    return done.returncode, json.loads(done.stdout)


def test_suspension_is_seen_everywhere_lifted_then_overridden_by_revocation(
    issued: Issued, tmp_path: Path
) -> None:
    config, cert = issued.env.config_file, issued.id(0)
    share = issued.share(0)
    assert issued.open_share(share)["report"]["verdict"] == "VALID"

    done = run_cli(config, "suspend", cert, "--reason", "appeal", "--note", "recours déposé")
    assert done.returncode == 0, done.stderr
    opened = issued.open_share(share)
    report = opened["report"]
    assert report["verdict"] == "SUSPENDED", report
    assert report["suspension_reason"] == "appeal" and report["suspended_at"]
    assert report["revoked_at"] is None and report["revocation_reason"] is None
    assert opened["pdf_base64"], "nothing is shredded: the share still opens the PDF"
    assert issued.dropped(0)["verdict"] == "SUSPENDED"
    assert issued.dropped(1)["verdict"] == "VALID", "only that certificate is suspended"
    code, alone = sceau_verify(issued, 0, tmp_path)
    assert (code, alone["verdict"], alone["suspension_reason"]) == (13, "SUSPENDED", "appeal")
    page = issued.api.get(f"/c/{cert}?lang=en").text
    assert "Suspended" in page and "appeal under way" in page
    share_page = issued.api.get(f"/s/{share[0]}?lang=en").text
    assert 'id="suspension-note"' in share_page and "A suspension is provisional" in share_page
    mine = issued.api.get(f"/me/{cert}?lang=fr").text
    assert "Votre certificat est suspendu depuis le" in mine and "recours en cours" in mine
    status = issued.api.get(f"/api/v1/certificates/{cert}/status").json()
    assert (status["status"], status["suspension_reason"]) == ("suspended", "appeal")

    again = run_cli(config, "suspend", cert, "--reason", "inquiry", "--note", "encore")
    assert again.returncode != 0 and "already suspended" in again.stderr

    lifted = run_cli(config, "unsuspend", cert, "--note", "recours rejeté")
    assert lifted.returncode == 0, lifted.stderr
    assert issued.open_share(share)["report"]["verdict"] == "VALID"
    assert issued.dropped(0)["verdict"] == "VALID"
    assert 'id="suspension-note"' not in issued.api.get(f"/s/{share[0]}").text
    code, alone = sceau_verify(issued, 0, tmp_path)
    revocation = next(c for c in alone["checks"] if c["name"] == "revocation")
    assert code != 13 and revocation["code"] == "not_revoked"

    engine = compose.database(issued.env.settings)
    revoker = create_token(engine, name="t", role=AdminRole.REVOKER, now=NOW)[1]
    through_api = issued.api.post(
        f"/api/v1/admin/certificates/{cert}/suspend",
        json={"reason": "inquiry", "note": "enquête ouverte"},
        headers={"Authorization": f"Bearer {revoker}"},
    )
    assert through_api.status_code == 200, through_api.text
    assert through_api.json()["suspended"] is True and through_api.json()["reason"] == "inquiry"
    assert issued.open_share(share)["report"]["suspension_reason"] == "inquiry"
    auditor = create_token(engine, name="a", role=AdminRole.AUDITOR, now=NOW)[1]
    refused_role = issued.api.post(
        f"/api/v1/admin/certificates/{issued.id(1)}/suspend",
        json={"reason": "inquiry", "note": "n"},
        headers={"Authorization": f"Bearer {auditor}"},
    )
    assert refused_role.status_code == 403
    unknown = issued.api.post(
        f"/api/v1/admin/certificates/{'ab' * 16}/unsuspend",
        json={"note": "n"},
        headers={"Authorization": f"Bearer {revoker}"},
    )
    assert unknown.status_code == 404, unknown.text

    revoked = run_sceau(config, "revoke", cert, "--reason", "fraud", "--note", "fraude avérée")
    assert revoked.returncode == 0, revoked.stderr
    tomb = issued.open_share(share)
    assert tomb["report"]["verdict"] == "REVOKED" and not tomb.get("pdf_base64")
    assert tomb["report"]["suspended_at"] is None
    refused = run_cli(config, "suspend", cert, "--reason", "other", "--note", "n")
    assert refused.returncode != 0 and "revoked" in refused.stderr

    log = issued.api.get(
        "/api/v1/admin/audit?limit=200", headers={"Authorization": f"Bearer {auditor}"}
    ).json()
    actions = [e["action"] for e in log["entries"] if e["subject"] == cert]
    assert log["intact"]
    for action in ("certificate.suspended", "certificate.unsuspended", "certificate.revoked"):
        assert action in actions, actions


def result(status: CheckStatus, code: str, **details: str) -> CheckResult:
    return CheckResult.of(CheckName.REVOCATION, status, code, **details)


def test_suspended_ranks_below_revoked_and_invalid_and_above_error() -> None:
    suspended = result(CheckStatus.INVALID, "suspended", suspended_at="2026-12-01", reason="appeal")
    revoked = result(CheckStatus.INVALID, "revoked", revoked_at="2026-12-01", reason="fraud")
    forged = CheckResult.of(CheckName.INTEGRITY, CheckStatus.INVALID, "pdf_hash_mismatch")
    unreachable = CheckResult.of(CheckName.ANCHORING, CheckStatus.ERROR, "chain_unreachable")
    required = (CheckName.REVOCATION,)
    assert decide([suspended], required) is Verdict.SUSPENDED
    assert decide([suspended, unreachable], required) is Verdict.SUSPENDED
    assert decide([revoked], required) is Verdict.REVOKED
    assert decide([suspended, forged], required) is Verdict.INVALID
    report = build_report(
        certificate_id=None, checks=[suspended], required=required, checked_at=NOW
    )
    assert (report.suspended_at, report.suspension_reason) == ("2026-12-01", "appeal")
    assert report.revoked_at is None and report.revocation_reason is None
    assert VerificationReport.from_json(report.to_json()).verdict is Verdict.SUSPENDED


class CrashAfterSave:
    """The chain client, but the first send fails as if the process died right after saving."""

    def __init__(self, client: RegistryClient) -> None:
        self._client = client
        self.sent: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def send(self, prepared: PreparedTransaction) -> str:
        if not self.sent:
            self.sent.append(prepared.tx_hash)
            raise RuntimeError("killed after the transaction was saved")
        return self._client.send(prepared)


def test_a_suspension_saved_then_interrupted_is_sent_once_by_the_next_run(
    issued: Issued,
) -> None:
    composed = suspensions(issued.env.settings)
    crashing = CrashAfterSave(composed.chain)  # type: ignore[arg-type]
    interrupted = Suspensions(engine=composed.engine, chain=crashing, audit=composed.audit)
    suspend(
        composed.engine,
        certificate_id=issued.id(1),
        reason="payment",
        note="frais impayés",
        actor="test",
        now=NOW,
    )
    with pytest.raises(RuntimeError):
        carry_out(interrupted, actor="test", now=NOW)
    with Session(composed.engine) as session:
        [change] = session.exec(select(SuspensionChangeRecord)).all()
        assert change.state == ChangeState.SENDING and change.tx_hash == crashing.sent[0]

    assert carry_out(composed, actor="test", now=NOW) == 1
    with Session(composed.engine) as session:
        [change] = session.exec(select(SuspensionChangeRecord)).all()
        assert change.state == ChangeState.DONE and change.tx_hash == crashing.sent[0]
    assert issued.env.chain.client().suspension_of(issued.messages[1].receipt.leaf) is not None
    assert issued.dropped(1)["verdict"] == "SUSPENDED"


# --- the served list, read by someone else's code ------------------------------------------------


@pytest.fixture
def live(sceau_env: SceauEnv) -> Iterator[tuple[SceauEnv, str, list[Delivered]]]:
    """A batch issued with links to a server on a free port, and that server running."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = sceau_env.config_file
    config.write_text(config.read_text().replace('"https://certs.example.test"', f'"{base_url}"'))
    env = SceauEnv(
        root=sceau_env.root,
        config_file=config,
        settings=load_settings(config),
        chain=sceau_env.chain,
        recovery_private_key=sceau_env.recovery_private_key,
    )
    messages = issue(env, 5)
    app = create_app(env.settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield env, base_url, messages
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def read_with_the_npm_library(env: SceauEnv, url: str, indices: list[int]) -> dict[str, Any]:
    script = REPO / "tests" / "outside" / "status_list.mjs"
    root = str(env.settings.signing.trust_root)
    args = ["node", str(script), url, root, *map(str, indices)]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def chain_status(client: RegistryClient, leaf: str) -> int:
    """What the chain says of a leaf, as a status list value: 0 valid, 1 revoked, 2 suspended."""
    status = client.check_certificate(leaf, [])
    return 1 if status.is_revoked else 2 if status.is_suspended else 0


def test_the_served_list_read_by_an_independent_library_agrees_with_the_chain(
    live: tuple[SceauEnv, str, list[Delivered]],
) -> None:
    env, base_url, messages = live
    composed = suspensions(env.settings)
    ids = [m.receipt.certificate_id for m in messages]
    for index, reason in ((0, "appeal"), (1, "inquiry"), (2, "payment")):
        suspend(
            composed.engine, certificate_id=ids[index], reason=reason, note="n", actor="t", now=NOW
        )
    assert carry_out(composed, actor="t", now=NOW) == 3, "one batch for the three"
    unsuspend(composed.engine, certificate_id=ids[1], note="levée", actor="t", now=NOW)
    assert carry_out(composed, actor="t", now=NOW) == 1
    for index in (2, 3):  # a suspended one and a valid one revoked
        revoke_on_initiative(
            composed.engine,
            certificate_id=ids[index],
            category="issuer_error",
            note="erreur",
            actor="t",
            now=NOW,
        )
    assert carry_out_revocations(compose.revocations(env.settings), actor="t") == 2
    current = publish_status_list(status_list_publication(env.settings), now=NOW)
    assert current is None, "carrying out the revocations signed and published the list"

    policy = status_list_publication(env.settings).policy
    refs = [
        reference_of(composed.engine, policy, issuer_id=env.settings.issuer_id, certificate_id=i)
        for i in ids
    ]
    url = f"{base_url}/status/{env.settings.issuer_id}"
    assert {r.uri for r in refs} == {url}
    read = read_with_the_npm_library(env, url, [r.idx for r in refs])

    chain = env.chain.client()
    expected = [chain_status(chain, m.receipt.leaf) for m in messages]
    assert expected == [2, 0, 1, 1, 0]
    assert [read["statuses"][str(r.idx)] for r in refs] == expected
    assert read["size"] >= 131_072
    on_chain = chain.current_status_list()
    assert on_chain is not None and on_chain.list_hash.hex() == read["sha256"]
    assert read["etag"] == f'"{read["sha256"]}"'
    assert read["claims"]["sub"] == url and read["claims"]["ttl"] > 0


def test_the_served_list_is_cacheable_for_its_ttl(issued: Issued) -> None:
    publish_status_list(status_list_publication(issued.env.settings), now=NOW)
    served = issued.api.get(f"/status/{issued.env.settings.issuer_id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/statuslist+jwt"
    assert served.headers["cache-control"] == "public, max-age=300"
    again = issued.api.get(
        f"/status/{issued.env.settings.issuer_id}",
        headers={"If-None-Match": served.headers["etag"]},
    )
    assert again.status_code == 304
