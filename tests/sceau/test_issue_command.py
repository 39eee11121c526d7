"""`sceau issue` end to end on the real chain, database, signer and outbox."""

from __future__ import annotations

import hashlib
import io
import re

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from contracts.merkle import leaf_hash, process_proof
from offchain_store.records import CertificateState
from tests.conftest import SceauEnv
from tests.sceau.helpers import SAMPLE, certificates, read_outbox, run_sceau


def test_issue_sample_then_check_a_delivered_certificate_against_chain_and_root(
    sceau_env: SceauEnv,
) -> None:
    done = run_sceau(sceau_env.config_file, "issue", str(SAMPLE))
    assert done.returncode == 0, done.stderr + done.stdout
    assert re.search(r"issued\s+│\s+24", done.stdout)

    delivered = read_outbox(sceau_env.settings.mail.outbox)
    assert len(delivered) == 24
    message = delivered[0]
    receipt = message.receipt
    assert f"/me/{receipt.certificate_id}#" in message.text.replace("=\n", "")

    digest = hashlib.sha256(message.pdf).digest()
    assert digest.hex() == receipt.pdf_sha256
    leaf = leaf_hash(bytes.fromhex(receipt.certificate_id), bytes.fromhex(receipt.salt[2:]), digest)
    assert "0x" + leaf.hex() == receipt.leaf
    proof = [bytes.fromhex(p[2:]) for p in receipt.proof]
    assert "0x" + process_proof(leaf, proof).hex() == receipt.root

    status = sceau_env.chain.client().check_certificate(leaf, proof)
    assert "0x" + status.root.hex() == receipt.root
    assert status.anchor is not None and status.revocation is None
    assert status.anchor.issuer == sceau_env.chain.issuer.address
    assert status.anchor.block_number == receipt.block_number

    root_pem = sceau_env.settings.signing.trust_root.read_bytes()
    _, _, der = pem.unarmor(root_pem)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    signature = PdfFileReader(io.BytesIO(message.pdf)).embedded_signatures[0]
    verdict = validate_pdf_signature(signature, context)
    assert verdict.bottom_line, verdict.pretty_print_details()


def test_importing_the_same_file_twice_issues_nothing_twice(sceau_env: SceauEnv) -> None:
    first = run_sceau(sceau_env.config_file, "issue", str(SAMPLE))
    assert first.returncode == 0, first.stderr
    nonce = sceau_env.chain.client().web3.eth.get_transaction_count(sceau_env.chain.issuer.address)

    again = run_sceau(sceau_env.config_file, "issue", str(SAMPLE))
    assert again.returncode == 0, again.stderr
    assert re.search(r"skipped \(already issued\)\s+│\s+24", again.stdout)
    assert re.search(r"issued\s+│\s+0", again.stdout)
    assert len(read_outbox(sceau_env.settings.mail.outbox)) == 24
    assert len(certificates(sceau_env.settings.database_url)) == 24
    after = sceau_env.chain.client().web3.eth.get_transaction_count(sceau_env.chain.issuer.address)
    assert after == nonce


def test_bad_rows_are_listed_and_nothing_is_issued(sceau_env: SceauEnv) -> None:
    bad = sceau_env.root / "bad.csv"
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    header, good = lines[0], lines[1]
    bad.write_bytes(
        header
        + good
        + good.replace(b"DCL-2026-11-0001,Camille Durand", b"BAD-1,")
        + good.replace(b"DCL-2026-11-0001", b"BAD-2").replace(b",B2,", b",X9,")
        + good.replace(b"DCL-2026-11-0001", b"BAD-3").replace(b"2026-10-14", b"2099-01-01")
        + good
        + good.replace(b"DCL-2026-11-0001", b"BAD-4").replace(
            b"Camille", "Andr\xe9".encode("latin-1")
        )
    )
    done = run_sceau(sceau_env.config_file, "issue", str(bad))
    assert done.returncode == 1
    output = done.stderr + done.stdout
    for expected in (
        "candidate_name: missing",
        "'X9' is not a CEFR level",
        "2099-01-01 is in the future",
        "appears more than once (lines 2, 6)",
        "not valid UTF-8",
        "Nothing issued",
    ):
        assert expected in output, output
    assert certificates(sceau_env.settings.database_url) == []
    assert not sceau_env.settings.mail.outbox.exists() or not any(
        sceau_env.settings.mail.outbox.iterdir()
    )


def test_records_keep_no_content_or_link_key_after_delivery(sceau_env: SceauEnv) -> None:
    done = run_sceau(sceau_env.config_file, "issue", str(SAMPLE))
    assert done.returncode == 0, done.stderr
    records = certificates(sceau_env.settings.database_url)
    assert {r.state for r in records} == {CertificateState.DELIVERED}
    assert all(r.staged_content is None and r.pending_link_key is None for r in records)
