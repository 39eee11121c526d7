"""The receipt's `status` and the profile's `status_list` (docs/receipt.md section 1.6,
docs/profile.md section 1.1) read the same by the outside JavaScript verifier and by
`sceau verify`: accepted when well formed (the verdict still comes from the chain), refused
alike when broken."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contracts.profile import IssuerProfile
from issuer.status_list import StatusListPolicy
from tests.conftest import SceauEnv
from tests.outside.test_outside_verifier import (
    EXIT_CODES,
    Kept,
    failing_codes,
    kept_from_outbox,
    outcomes,
    report_of,
    run_outside,
)
from tests.sceau.helpers import run_sceau, subset_of_sample
from tests.verifier.conftest import publish_profile


@dataclass(frozen=True)
class Issued:
    """One kept certificate, its issuer's status list URL, and two profiles: the issuer's
    with a `status_list` member (published on chain) and a copy with a broken one."""

    env: SceauEnv
    kept: Kept
    list_uri: str
    profile: Path
    profile_bits_one: Path


def issue_one(env: SceauEnv, folder: Path) -> Issued:
    done = run_sceau(env.config_file, "issue", str(subset_of_sample(folder / "results.csv", 1)))
    assert done.returncode == 0, done.stdout + done.stderr
    [kept] = kept_from_outbox(env.settings.mail.outbox)
    written = run_sceau(env.config_file, "profile", "--out", str(folder / "plain.json"))
    assert written.returncode == 0, written.stdout + written.stderr
    policy = StatusListPolicy(public_base_url=env.settings.public_base_url)
    entry = policy.in_profile(env.settings.issuer_id)
    plain = IssuerProfile.from_json((folder / "plain.json").read_bytes())
    listed = plain.model_copy(update={"status_list": entry})
    profile = folder / "issuer.json"
    profile.write_bytes(listed.to_json())
    publish_profile(env.chain.rpc_url, env.chain.admin, env.chain.contract_address, listed)
    broken = json.loads(listed.to_json())
    broken["status_list"]["bits"] = 1
    bits_one = folder / "issuer_bits_one.json"
    bits_one.write_text(json.dumps(broken, indent=2, sort_keys=True) + "\n")
    return Issued(env, kept, entry.uri, profile, bits_one)


@pytest.fixture(scope="module")
def issued(module_sceau_env: SceauEnv, tmp_path_factory: pytest.TempPathFactory) -> Issued:
    """One issuance per database backend, shared by the cases."""
    return issue_one(module_sceau_env, tmp_path_factory.mktemp("status_ref"))


@dataclass(frozen=True)
class Case:
    receipt: bytes
    profile: Path
    expected: tuple[str, str | None]  # verdict, and the code of the one failing check


def with_status(issued: Issued, **reference: Any) -> bytes:
    status = {"status_list": {"idx": 48213, "uri": issued.list_uri, **reference}}
    return issued.kept.receipt_with(status=status)


CASES: dict[str, Callable[[Issued], Case]] = {
    "plain_receipt_profile_with_status_list": lambda i: Case(
        i.kept.receipt, i.profile, ("VALID", None)
    ),
    "receipt_with_status": lambda i: Case(with_status(i), i.profile, ("VALID", None)),
    "receipt_with_status_at_index_zero": lambda i: Case(
        with_status(i, idx=0), i.profile, ("VALID", None)
    ),
    # Same origin, not the profile's list: informative only, the chain still decides.
    "receipt_status_another_list_of_the_origin": lambda i: Case(
        with_status(i, uri=i.list_uri + "-old"), i.profile, ("VALID", None)
    ),
    "status_uri_other_origin": lambda i: Case(
        with_status(i, uri="https://status.example.net/status/test-centre"),
        i.profile,
        ("INVALID", "receipt_malformed"),
    ),
    "status_uri_http_not_loopback": lambda i: Case(
        with_status(i, uri=i.list_uri.replace("https://", "http://")),
        i.profile,
        ("INVALID", "receipt_malformed"),
    ),
    "status_idx_negative": lambda i: Case(
        with_status(i, idx=-1), i.profile, ("INVALID", "receipt_malformed")
    ),
    "status_idx_too_large": lambda i: Case(
        with_status(i, idx=2**32), i.profile, ("INVALID", "receipt_malformed")
    ),
    "status_list_unknown_member": lambda i: Case(
        with_status(i, bits=2), i.profile, ("INVALID", "receipt_malformed")
    ),
    "status_null": lambda i: Case(
        i.kept.receipt_with(status=None), i.profile, ("INVALID", "receipt_malformed")
    ),
    "profile_status_list_bits_one": lambda i: Case(
        with_status(i), i.profile_bits_one, ("ERROR", "profile_malformed")
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_outside_verifier_and_sceau_verify_read_the_status_reference_alike(
    name: str, issued: Issued, tmp_path: Path
) -> None:
    case = CASES[name](issued)
    pdf, receipt = tmp_path / "certificate.pdf", tmp_path / "receipt.json"
    pdf.write_bytes(issued.kept.pdf)
    receipt.write_bytes(case.receipt)
    rpc_url = issued.env.chain.rpc_url

    outside = run_outside(pdf, receipt, case.profile, rpc_url)
    sceau = run_sceau(
        issued.env.config_file, "verify", str(pdf), "--receipt", str(receipt),
        "--profile", str(case.profile), "--rpc", rpc_url, "--json",
    )  # fmt: skip
    theirs, ours = report_of(outside, "verify.mjs"), report_of(sceau, "sceau verify --json")

    seen = (
        f"verify.mjs: {theirs['verdict']} {failing_codes(theirs)}; "
        f"sceau verify: {ours['verdict']} {failing_codes(ours)}"
    )
    assert theirs["verdict"] == ours["verdict"], seen
    assert outcomes(theirs) == outcomes(ours), seen
    verdict, code = case.expected
    assert ours["verdict"] == verdict, seen
    assert [c for _, c in outcomes(ours)] == ([code] if code else []), seen
    assert outside.returncode == EXIT_CODES[verdict], seen
    assert sceau.returncode == EXIT_CODES[verdict], seen
