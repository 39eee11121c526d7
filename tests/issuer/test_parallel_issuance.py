"""Issuance with several workers: signing and message building in worker processes, records
committed in small groups; every certificate delivered once, its attachment the stored PDF."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from issuer.delivery import outbox_file_name
from issuer.dispatch import DELIVER_GROUP
from issuer.intake import parse_results
from issuer.pipeline import batch_counts, run_batch, stage_results
from offchain_store.records import CertificateState
from sceau import compose
from tests.conftest import SceauEnv
from tests.sceau.helpers import certificates, read_outbox

pytestmark = pytest.mark.chain

HEADER = (
    "result_id,candidate_name,date_of_birth,candidate_number,email,exam,language,level,"
    "skill_listening,session_date,centre\n"
)
ROWS = 2 * DELIVER_GROUP + 3  # more than a group: the pool builds the messages, commits group


def test_two_workers_deliver_every_certificate_once_with_its_stored_pdf(
    sceau_env: SceauEnv,
) -> None:
    issuance = dataclasses.replace(compose.issuance(sceau_env.settings), workers=2)
    rows = "".join(
        f"R-PAR-{n},Camille Durand {n},1990-05-01,C{n},c{n}@example.org,DCL,Anglais,B2,B1,"
        "2026-10-14,Lyon\n"
        for n in range(ROWS)
    )
    source = (HEADER + rows).encode()
    report = parse_results(source, name="parallel.csv", today=date(2026, 11, 22))
    (batch_id,) = stage_results(issuance, report, source).batch_ids

    run_batch(issuance, batch_id)

    assert batch_counts(issuance.engine, batch_id) == {CertificateState.DELIVERED: ROWS}
    records = {r.id: r for r in certificates(sceau_env.settings.database_url)}
    delivered = read_outbox(sceau_env.settings.mail.outbox)
    assert sorted(d.receipt.certificate_id for d in delivered) == sorted(records)
    for message in delivered:
        record = records[message.receipt.certificate_id]
        assert hashlib.sha256(message.pdf).hexdigest() == record.pdf_sha256
        assert message.receipt.to_json().decode() == record.receipt
        assert record.pending_link_key is None and record.staged_content is None
        assert message.to.endswith(f"<{record.candidate_email}>")
        parsed = BytesParser(policy=policy.default).parsebytes(message.path.read_bytes())
        assert isinstance(parsed, EmailMessage)
        assert message.path.name == outbox_file_name(parsed)  # as a re-send would name it
