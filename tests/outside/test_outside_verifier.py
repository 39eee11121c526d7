"""The outside JavaScript verifier (tests/outside/verify.mjs, written from docs/receipt.md and
docs/profile.md alone) and `sceau verify --json` give the same verdict on real certificates
issued by the real flow, valid, tampered, revoked, suspended (then lifted, or revoked), or
against a chain that does not answer."""

from __future__ import annotations

import email
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from pathlib import Path

import pytest
from eth_account import Account

from contracts.client import Role, SuspensionReason, deploy_registry, make_web3
from contracts.localchain import fund_account
from tests.conftest import SceauEnv
from tests.ports import free_port
from tests.sceau.helpers import REPO, run_sceau, subset_of_sample
from tests.verifier.conftest import publish_profile

VERIFY_MJS = Path(__file__).parent / "verify.mjs"
ABI = REPO / "contracts" / "abi" / "CertificateRegistry.json"
EXIT_CODES = {"VALID": 0, "INVALID": 10, "REVOKED": 11, "ERROR": 12, "SUSPENDED": 13}


@dataclass(frozen=True)
class Kept:
    """What a candidate keeps from the message: the signed PDF and the receipt, as bytes."""

    certificate_id: str
    pdf: bytes
    receipt: bytes

    def receipt_with(self, **changes: object) -> bytes:
        document = json.loads(self.receipt)
        document.update(changes)
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True)
class Batch:
    """One issued batch of kept certificates: valid, revoked, suspended, suspended then lifted,
    suspended then revoked; the profile; a registry that is not the issuer's."""

    env: SceauEnv
    valid: Kept
    sibling: Kept
    revoked: Kept
    suspended: Kept
    lifted: Kept
    suspended_then_revoked: Kept
    profile: Path
    rogue_registry: str


def kept_from_outbox(outbox: Path) -> list[Kept]:
    """Each message's PDF and receipt attachments, byte for byte."""
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        files = {
            p.get_filename() or "": p.get_payload(decode=True) for p in message.iter_attachments()
        }
        pdf = next(v for k, v in files.items() if k.endswith(".pdf"))
        receipt = next(v for k, v in files.items() if k.endswith(".json"))
        assert isinstance(pdf, bytes) and isinstance(receipt, bytes)
        found.append(Kept(json.loads(receipt)["certificate_id"], pdf, receipt))
    return found


def revoke(env: SceauEnv, kept: Kept) -> None:
    revoking = run_sceau(
        env.config_file, "revoke", kept.certificate_id, "--reason", "fraud",
        "--note", "outside verifier test",
    )  # fmt: skip
    assert revoking.returncode == 0, revoking.stdout + revoking.stderr


def leaf_of(kept: Kept) -> str:
    leaf: str = json.loads(kept.receipt)["leaf"]
    return leaf


def suspend_on_chain(env: SceauEnv, suspend: list[Kept], lift: list[Kept]) -> None:
    """Suspend leaves with a suspender the chain's admin appoints, then lift some of them."""
    chain, account = env.chain, Account.create()
    fund_account(chain.rpc_url, account.address)
    chain.client(chain.admin).grant_role(Role.SUSPENDER, account.address)
    suspender = chain.client(account)
    suspender.suspend_batch([(leaf_of(k), SuspensionReason.INQUIRY) for k in suspend])
    suspender.unsuspend_batch([leaf_of(k) for k in lift])


def issue_batch(env: SceauEnv, folder: Path) -> Batch:
    """Issue six certificates and keep them; revoke one, suspend three (lift one, revoke one);
    write and publish the profile."""
    done = run_sceau(env.config_file, "issue", str(subset_of_sample(folder / "results.csv", 6)))
    assert done.returncode == 0, done.stdout + done.stderr
    valid, sibling, revoked, suspended, lifted, then_revoked = kept_from_outbox(
        env.settings.mail.outbox
    )
    revoke(env, revoked)
    suspend_on_chain(env, [suspended, lifted, then_revoked], [lifted])
    revoke(env, then_revoked)
    profile = folder / "issuer.json"
    written = run_sceau(env.config_file, "profile", "--out", str(profile))
    assert written.returncode == 0, written.stdout + written.stderr
    chain = env.chain
    if "currentProfile" in ABI.read_text():  # the registry anchors the profile's hash
        publish_profile(chain.rpc_url, chain.admin, chain.contract_address, profile.read_bytes())
    rogue = deploy_registry(
        make_web3(chain.rpc_url), chain.outsider, chain.outsider.address, poll_interval=0.05
    )
    return Batch(
        env, valid, sibling, revoked, suspended, lifted, then_revoked, profile, rogue.address
    )


@pytest.fixture(scope="module")
def batch(module_sceau_env: SceauEnv, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """One batch per database backend, shared by the cases (`module_sceau_env` is built on
    SQLite, then on PostgreSQL, and each issues its own)."""
    return issue_batch(module_sceau_env, tmp_path_factory.mktemp("outside"))


@dataclass(frozen=True)
class Case:
    """A PDF and a receipt to verify, against which node, and the verdict the docs give."""

    pdf: bytes
    receipt: bytes
    rpc_url: str
    expected: str


def flip_one_byte(pdf: bytes) -> bytes:
    position = pdf.index(b"stream\n") + 20
    return pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1 :]


def salt_digit_changed(kept: Kept) -> bytes:
    salt = json.loads(kept.receipt)["salt"]
    digit = "1" if salt[-1] != "1" else "2"
    return kept.receipt_with(salt=salt[:-1] + digit)


def unknown_field(kept: Kept) -> bytes:
    document = json.loads(kept.receipt)
    document["note"] = "added by the holder"
    return json.dumps(document, indent=2).encode()


CASES: dict[str, Callable[[Batch], Case]] = {
    "valid": lambda b: Case(b.valid.pdf, b.valid.receipt, b.env.chain.rpc_url, "VALID"),
    "pdf_one_byte_changed": lambda b: Case(
        flip_one_byte(b.valid.pdf), b.valid.receipt, b.env.chain.rpc_url, "INVALID"
    ),
    "pdf_bytes_appended": lambda b: Case(
        b.valid.pdf + b"\n% appended\n", b.valid.receipt, b.env.chain.rpc_url, "INVALID"
    ),
    "salt_digit_changed": lambda b: Case(
        b.valid.pdf, salt_digit_changed(b.valid), b.env.chain.rpc_url, "INVALID"
    ),
    "proof_of_another_certificate": lambda b: Case(
        b.valid.pdf,
        b.valid.receipt_with(proof=json.loads(b.sibling.receipt)["proof"]),
        b.env.chain.rpc_url,
        "INVALID",
    ),
    "unknown_field": lambda b: Case(
        b.valid.pdf, unknown_field(b.valid), b.env.chain.rpc_url, "INVALID"
    ),
    "wrong_block_number": lambda b: Case(
        b.valid.pdf,
        b.valid.receipt_with(block_number=json.loads(b.valid.receipt)["block_number"] + 1),
        b.env.chain.rpc_url,
        "INVALID",
    ),
    "another_contract": lambda b: Case(
        b.valid.pdf, b.valid.receipt_with(contract=b.rogue_registry), b.env.chain.rpc_url, "INVALID"
    ),
    "revoked": lambda b: Case(b.revoked.pdf, b.revoked.receipt, b.env.chain.rpc_url, "REVOKED"),
    "suspended": lambda b: Case(
        b.suspended.pdf, b.suspended.receipt, b.env.chain.rpc_url, "SUSPENDED"
    ),
    "suspension_lifted": lambda b: Case(
        b.lifted.pdf, b.lifted.receipt, b.env.chain.rpc_url, "VALID"
    ),
    "suspended_then_revoked": lambda b: Case(
        b.suspended_then_revoked.pdf,
        b.suspended_then_revoked.receipt,
        b.env.chain.rpc_url,
        "REVOKED",
    ),
    "chain_unreachable": lambda b: Case(
        b.valid.pdf, b.valid.receipt, f"http://127.0.0.1:{free_port()}", "ERROR"
    ),
}


def run_outside(
    pdf: Path, receipt: Path, profile: Path, rpc_url: str
) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None, "node is not installed"
    return subprocess.run(
        [node, str(VERIFY_MJS), "--pdf", str(pdf), "--receipt", str(receipt),
         "--profile", str(profile), "--rpc", rpc_url],
        cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def report_of(done: subprocess.CompletedProcess[str], who: str) -> dict[str, object]:
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{who} printed no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")
    assert isinstance(report, dict), f"{who}: the report is not a JSON object"
    return report


def failing_codes(report: dict[str, object]) -> list[str]:
    checks = report.get("checks")
    assert isinstance(checks, list)
    return [
        f"{c['name']}:{c['status']}:{c['code']} ({c.get('message', c.get('message_en'))})"
        for c in checks
        if c.get("status") != "valid"
    ]


def instant(value: object) -> datetime | None:
    """An RFC 3339 date-time of a report as an aware datetime (None stays None)."""
    if value is None:
        return None
    assert isinstance(value, str), value
    return datetime.fromisoformat(value)


def outcomes(report: dict[str, object]) -> list[tuple[str, str]]:
    """The status and code of every check that is not valid, in order (the docs do not name the
    check that holds `receipt_malformed`, so names are left out)."""
    checks = report.get("checks")
    assert isinstance(checks, list)
    return [(c["status"], c["code"]) for c in checks if c.get("status") != "valid"]


@pytest.mark.parametrize("name", list(CASES))
def test_outside_verifier_agrees_with_sceau_verify(name: str, batch: Batch, tmp_path: Path) -> None:
    case = CASES[name](batch)
    pdf, receipt = tmp_path / "certificate.pdf", tmp_path / "receipt.json"
    pdf.write_bytes(case.pdf)
    receipt.write_bytes(case.receipt)

    outside = run_outside(pdf, receipt, batch.profile, case.rpc_url)
    sceau = run_sceau(
        batch.env.config_file, "verify", str(pdf), "--receipt", str(receipt),
        "--profile", str(batch.profile), "--rpc", case.rpc_url, "--json",
    )  # fmt: skip
    theirs, ours = report_of(outside, "verify.mjs"), report_of(sceau, "sceau verify --json")

    seen = (
        f"verify.mjs: {theirs['verdict']} {failing_codes(theirs)}; "
        f"sceau verify: {ours['verdict']} {failing_codes(ours)}"
    )
    assert theirs["verdict"] == ours["verdict"], seen
    assert outcomes(theirs) == outcomes(ours), seen
    for field in ("revocation_reason", "suspension_reason"):
        assert theirs.get(field) == ours.get(field), f"{field}: {seen}"
    for field in ("revoked_at", "suspended_at"):  # RFC 3339 both, compared as instants
        assert instant(theirs.get(field)) == instant(ours.get(field)), f"{field}: {seen}"
    assert ours["verdict"] == case.expected, seen
    assert outside.returncode == EXIT_CODES[case.expected], seen
    assert sceau.returncode == EXIT_CODES[case.expected], seen


ASSETS = REPO / "tests" / "assets" / "receipts"
DEFECTS = sorted(json.loads((ASSETS / "index.json").read_text()))


@pytest.mark.parametrize("defect", DEFECTS)
def test_outside_verifier_refuses_the_published_receipt_vectors(defect: str) -> None:
    """docs/receipt.md section 7.2: each vector is INVALID `receipt_malformed`, no chain asked
    (the RPC URL is a port where nothing listens, so asking it would give ERROR)."""
    example = ASSETS / "example"
    done = run_outside(
        example / "certificate.pdf",
        ASSETS / f"{defect}.json",
        example / "profile.json",
        f"http://127.0.0.1:{free_port()}",
    )
    report = report_of(done, "verify.mjs")
    assert (report["verdict"], report["code"]) == ("INVALID", "receipt_malformed"), report
    assert done.returncode == EXIT_CODES["INVALID"]


PROFILE_DEFECTS = sorted(json.loads((ASSETS / "profiles" / "index.json").read_text()))


@pytest.mark.parametrize("defect", PROFILE_DEFECTS)
def test_outside_verifier_refuses_the_published_profile_vectors(defect: str) -> None:
    """docs/profile.md section 1.2: each vector is ERROR `profile_malformed`, no chain asked."""
    example = ASSETS / "example"
    done = run_outside(
        example / "certificate.pdf",
        example / "receipt.json",
        ASSETS / "profiles" / f"{defect}.json",
        f"http://127.0.0.1:{free_port()}",
    )
    report = report_of(done, "verify.mjs")
    assert (report["verdict"], report["code"]) == ("ERROR", "profile_malformed"), report
    assert done.returncode == EXIT_CODES["ERROR"]
