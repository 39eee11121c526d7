"""`sceau verify` through typer's CliRunner, on a small app that holds only that command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from contracts.profile import IssuerProfile
from sceau.verify_command import verify
from tests.conftest import AnvilChain
from tests.ports import free_port
from tests.verifier.conftest import Issued, publish

pytestmark = pytest.mark.chain

app = typer.Typer()
app.command("verify")(verify)
app.command("noop")(lambda: None)  # two commands, so "verify" is a sub-command as in sceau.cli
runner = CliRunner()
WIDE = {"COLUMNS": "240"}  # rich wraps table cells to the terminal width


def write(
    tmp_path: Path,
    issued: Issued,
    profile: IssuerProfile | None = None,
    published_on: AnvilChain | None = None,
) -> list[str]:
    """The files `sceau verify` reads; the profile's hash published on `published_on`."""
    pdf = tmp_path / "certificate.pdf"
    receipt = tmp_path / "receipt.json"
    pdf.write_bytes(issued.pdf)
    receipt.write_bytes(issued.receipt.to_json())
    args = ["verify", str(pdf), "--receipt", str(receipt)]
    if profile is not None:
        (tmp_path / "profile.json").write_bytes(profile.to_json())
        if published_on is not None:
            publish(published_on, profile)
        args += ["--profile", str(tmp_path / "profile.json")]
    return args


def test_valid_certificate_exits_0_with_a_table(
    tmp_path: Path,
    valid_certificate: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    args = write(tmp_path, valid_certificate, issuer_profile, anvil_chain)

    result = runner.invoke(app, [*args, "--rpc", anvil_chain.rpc_url, "--lang", "en"], env=WIDE)

    assert result.exit_code == 0, result.output
    assert "The PDF is exactly the one anchored." in result.output
    assert "VALID" in result.output


def test_rpc_comes_from_the_environment(
    tmp_path: Path,
    valid_certificate: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    args = write(tmp_path, valid_certificate, issuer_profile, anvil_chain)

    result = runner.invoke(
        app, [*args, "--json"], env={**WIDE, "SCEAU_CHAIN__RPC_URL": anvil_chain.rpc_url}
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == "VALID"


def test_flipped_pdf_exits_10(
    tmp_path: Path,
    pdf_one_byte_flipped: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    args = write(tmp_path, pdf_one_byte_flipped, issuer_profile)

    result = runner.invoke(app, [*args, "--rpc", anvil_chain.rpc_url, "--json"], env=WIDE)

    assert result.exit_code == 10
    report = json.loads(result.stdout)
    assert report["verdict"] == "INVALID"
    assert report["checks"][0]["code"] == "pdf_hash_mismatch"


def test_revoked_exits_11_in_french(
    tmp_path: Path, leaf_revoked: Issued, anvil_chain: AnvilChain, issuer_profile: IssuerProfile
) -> None:
    args = write(tmp_path, leaf_revoked, issuer_profile, anvil_chain)

    result = runner.invoke(app, [*args, "--rpc", anvil_chain.rpc_url, "--lang", "fr"], env=WIDE)

    assert result.exit_code == 11, result.output
    assert "RÉVOQUÉ" in result.output
    assert "fraud" in result.output


def test_unreachable_chain_exits_12(
    tmp_path: Path, valid_certificate: Issued, issuer_profile: IssuerProfile
) -> None:
    args = write(tmp_path, valid_certificate, issuer_profile)

    result = runner.invoke(
        app, [*args, "--rpc", f"http://127.0.0.1:{free_port()}", "--json"], env=WIDE
    )

    assert result.exit_code == 12
    assert json.loads(result.stdout)["verdict"] == "ERROR"


def test_trust_root_without_profile_exits_12_but_checks_the_signature(
    tmp_path: Path, valid_certificate: Issued, anvil_chain: AnvilChain, issuer_pki_root: bytes
) -> None:
    args = write(tmp_path, valid_certificate)
    (tmp_path / "root.pem").write_bytes(issuer_pki_root)

    result = runner.invoke(
        app,
        [*args, "--rpc", anvil_chain.rpc_url, "--trust-root", str(tmp_path / "root.pem")],
        env=WIDE,
    )

    assert result.exit_code == 12
    assert "no_issuer_profile" in result.output
    assert "signature_valid" in result.output


def test_malformed_receipt_prints_an_invalid_report_and_exits_10(
    tmp_path: Path, valid_certificate: Issued
) -> None:
    args = write(tmp_path, valid_certificate)
    (tmp_path / "receipt.json").write_text('{"format": "sceau-receipt/1"}')

    result = runner.invoke(app, [*args, "--json"], env=WIDE)

    assert result.exit_code == 10, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "INVALID" and report["certificate_id"] is None
    [check] = report["checks"]
    assert (check["status"], check["code"]) == ("invalid", "receipt_malformed")
    assert "invalid receipt" in check["message_en"]


@pytest.mark.parametrize("defect", ["duplicate_key", "contract_bad_checksum", "not_json"])
def test_refused_receipt_assets_print_a_report_and_exit_10(
    tmp_path: Path, valid_certificate: Issued, defect: str
) -> None:
    args = write(tmp_path, valid_certificate)
    asset = Path(__file__).parents[1] / "assets" / "receipts" / f"{defect}.json"
    (tmp_path / "receipt.json").write_bytes(asset.read_bytes())

    result = runner.invoke(app, [*args, "--json"], env=WIDE)

    assert result.exit_code == 10, result.output
    assert json.loads(result.stdout)["checks"][0]["code"] == "receipt_malformed"


def test_missing_pdf_prints_an_error_report_and_exits_12(
    tmp_path: Path, valid_certificate: Issued, issuer_profile: IssuerProfile
) -> None:
    args = write(tmp_path, valid_certificate, issuer_profile)
    (tmp_path / "certificate.pdf").unlink()

    result = runner.invoke(app, [*args, "--json"], env=WIDE)

    assert result.exit_code == 12, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "ERROR"
    assert [c["code"] for c in report["checks"]] == ["file_unreadable"]


def test_malformed_profile_prints_an_error_report_and_exits_12(
    tmp_path: Path, valid_certificate: Issued, issuer_profile: IssuerProfile
) -> None:
    args = write(tmp_path, valid_certificate, issuer_profile)
    (tmp_path / "profile.json").write_text('{"format": "sceau-issuer-profile/1", "x": 1}')

    result = runner.invoke(app, [*args, "--json"], env=WIDE)

    assert result.exit_code == 12, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "ERROR"
    assert report["certificate_id"] == valid_certificate.receipt.certificate_id
    assert [c["code"] for c in report["checks"]] == ["profile_malformed"]


def test_malformed_receipt_and_profile_are_invalid_first(
    tmp_path: Path, valid_certificate: Issued, issuer_profile: IssuerProfile
) -> None:
    args = write(tmp_path, valid_certificate, issuer_profile)
    (tmp_path / "receipt.json").write_text("[]")
    (tmp_path / "profile.json").write_text("{")

    result = runner.invoke(app, [*args, "--json"], env=WIDE)

    assert result.exit_code == 10, result.output
    codes = [c["code"] for c in json.loads(result.stdout)["checks"]]
    assert codes == ["receipt_malformed", "profile_malformed"]


def test_malformed_trust_root_prints_an_error_report_and_exits_12(
    tmp_path: Path, valid_certificate: Issued, anvil_chain: AnvilChain
) -> None:
    args = write(tmp_path, valid_certificate)
    (tmp_path / "root.pem").write_text("not a certificate")

    result = runner.invoke(
        app,
        [*args, "--rpc", anvil_chain.rpc_url, "--trust-root", str(tmp_path / "root.pem"), "--json"],
        env=WIDE,
    )

    assert result.exit_code == 12, result.output
    assert json.loads(result.stdout)["checks"][0]["code"] == "trust_root_unreadable"


def test_an_unknown_option_is_a_usage_error(tmp_path: Path, valid_certificate: Issued) -> None:
    args = write(tmp_path, valid_certificate)

    result = runner.invoke(app, [*args, "--no-such-option"], env=WIDE)

    assert result.exit_code == 2


def test_a_profile_that_is_not_the_current_one_exits_10(
    tmp_path: Path,
    valid_certificate: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> None:
    args = write(tmp_path, valid_certificate, issuer_profile, anvil_chain)
    publish(anvil_chain, issuer_profile.model_copy(update={"name": "Renamed since"}))

    result = runner.invoke(app, [*args, "--rpc", anvil_chain.rpc_url, "--json"], env=WIDE)

    assert result.exit_code == 10, result.output
    codes = {c["name"]: c["code"] for c in json.loads(result.stdout)["checks"]}
    assert codes["issuer_identity"] == "profile_not_current"
