"""`sceau issue` end to end on the real chain, database, signer and outbox."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from dataclasses import dataclass

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from contracts.merkle import leaf_hash, process_proof
from offchain_store.records import CertificateState
from tests.conftest import SceauEnv
from tests.sceau.helpers import SAMPLE, certificates, read_outbox, run_sceau


@dataclass(frozen=True)
class SampleIssued:
    env: SceauEnv
    done: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def sample_issued(module_sceau_env: SceauEnv) -> SampleIssued:
    """The 24-row sample issued once for the module, on SQLite then on PostgreSQL; the tests
    that read it change nothing (the second import must issue nothing)."""
    done = run_sceau(module_sceau_env.config_file, "issue", str(SAMPLE))
    return SampleIssued(module_sceau_env, done)


def test_issue_sample_then_check_a_delivered_certificate_against_chain_and_root(
    sample_issued: SampleIssued,
) -> None:
    sceau_env, done = sample_issued.env, sample_issued.done
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


def test_importing_the_same_file_twice_issues_nothing_twice(sample_issued: SampleIssued) -> None:
    sceau_env, first = sample_issued.env, sample_issued.done
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
        "lines 2, 6 are the same result; one certificate is issued",
        "not valid UTF-8",
        "Nothing issued",
    ):
        assert expected in output, output
    assert certificates(sceau_env.settings.database_url) == []
    assert not sceau_env.settings.mail.outbox.exists() or not any(
        sceau_env.settings.mail.outbox.iterdir()
    )


def test_records_keep_no_content_or_link_key_after_delivery(sample_issued: SampleIssued) -> None:
    sceau_env, done = sample_issued.env, sample_issued.done
    assert done.returncode == 0, done.stderr
    records = certificates(sceau_env.settings.database_url)
    assert {r.state for r in records} == {CertificateState.DELIVERED}
    assert all(r.staged_content is None and r.pending_link_key is None for r in records)


def test_dry_run_shows_columns_and_rows_and_issues_nothing(sceau_env: SceauEnv) -> None:
    export = sceau_env.root / "export.csv"
    export.write_bytes(
        "Nom;Prénom;Date de naissance;N° candidat;Numéro de résultat;Examen;Langue;"
        "Niveau CECRL;Compréhension orale;Expression écrite;Date de session;Centre;Remarques\r\n"
        "Durand;Camille;02/11/1995;C1;R-1;DCL;Anglais;B2;B1;B2;14/10/2026;Lyon;admis\r\n"
        "Benali;Inès;21/03/1988;C2;R-2;DCL;Anglais;X9;C1;B2;14/10/2026;Lyon;\r\n"
        "Martin;Léa;05/06/1990;C3;R-3;DCL;Anglais;C1;C1;C1;14/10/2026;Lyon;\r\n"
        "Martin;Léa;05/06/1990;C3;R-3;DCL;Anglais;C1;C1;C1;14/10/2026;Lyon;\r\n".encode("cp1252")
    )
    client = sceau_env.chain.client()
    nonce = client.web3.eth.get_transaction_count(sceau_env.chain.issuer.address)

    done = run_sceau(sceau_env.config_file, "issue", str(export), "--dry-run")
    assert done.returncode == 1, done.stderr + done.stdout  # a row is rejected
    shown = done.stdout
    assert "read as CSV, Windows-1252, separator ';'" in shown
    for header, field in (
        ("Nom", "last_name"),
        ("Prénom", "first_name"),
        ("N° candidat", "candidate_number"),
        ("Niveau CECRL", "level"),
        ("Compréhension orale", "skill_listening"),
        ("Expression écrite", "skill_writing"),
    ):
        assert re.search(rf"│ {re.escape(header)}\s+│ {field}\s+│ known name", shown), shown
    assert re.search(r"│ Remarques\s+│ ignored\s+│ not understood", shown), shown
    assert re.search(r"┃ line ┃ result id ┃ name\s+┃ level ┃ listening ┃ writing ┃ delivery", shown)
    assert re.search(
        r"│\s+2 │ R-1\s+│ Camille Durand\s+│ B2\s+│ B1\s+│ B2\s+│ letter \(fr\)", shown
    )
    assert re.search(r"│\s+4 │ R-3\s+│ Léa Martin\s+│ C1 ", shown), shown
    assert "R-3: lines 4, 5 are the same result" in shown
    assert re.search(r"│\s+3 │ R-2\s+│ level: 'X9' is not a CEFR level", shown), shown
    assert "Dry run: 2 certificate(s) would be issued, 1 row(s) rejected" in shown

    assert certificates(sceau_env.settings.database_url) == []
    assert not sceau_env.settings.mail.outbox.exists()
    assert client.web3.eth.get_transaction_count(sceau_env.chain.issuer.address) == nonce


def test_dry_run_with_a_mapping_file(sceau_env: SceauEnv) -> None:
    export = sceau_env.root / "odd.csv"
    export.write_text(
        "Ident,Apprenant,Naiss.,Dossier,Epreuve,Matière,Résultat,Jour,Lieu\n"
        "X-1,Camille Durand,1995-11-02,C1,DCL,Anglais,B2,2026-10-14,Lyon\n",
        encoding="utf-8",
    )
    mapping = sceau_env.root / "columns.toml"
    mapping.write_text(
        '[columns]\nresult_id = "Ident"\ncandidate_name = "Apprenant"\n'
        'date_of_birth = "Naiss."\ncandidate_number = "Dossier"\nexam = "Epreuve"\n'
        'language = "Matière"\nlevel = "Résultat"\nsession_date = "Jour"\n',
        encoding="utf-8",
    )
    done = run_sceau(
        sceau_env.config_file, "issue", str(export), "--columns", str(mapping), "--dry-run"
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert re.search(r"│ Apprenant\s+│ candidate_name\s+│ mapping file", done.stdout)
    assert re.search(r"│ Lieu\s+│ centre\s+│ known name", done.stdout)
    assert re.search(r"│\s+2 │ X-1\s+│ Camille Durand\s+│ B2", done.stdout)
    assert certificates(sceau_env.settings.database_url) == []


def test_columns_not_understood_are_named_with_the_nearest_known_names(
    sceau_env: SceauEnv,
) -> None:
    export = sceau_env.root / "export.csv"
    export.write_text(
        "last_name;first_name;date_naissance;cefr_level;listening;reading\n"
        "Durand;Camille;1995-11-02;B2;B1;B2\n",
        encoding="utf-8-sig",
    )
    done = run_sceau(sceau_env.config_file, "issue", str(export))
    assert done.returncode == 2, done.stderr + done.stdout
    error = " ".join(done.stderr.split())
    assert "Columns found: 'last_name', 'first_name', 'date_naissance', 'cefr_level'" in error
    assert "Not understood: 'date_naissance' (nearest known names: 'date de naissance'" in error
    assert "Missing column(s) for result_id" in error and "--columns MAP.toml" in error
