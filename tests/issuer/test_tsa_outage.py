"""The time-stamping authority goes down in the middle of a batch: the batch says it is waiting,
retries, and finishes once the TSA is back, with every PDF at the configured level (B-LTA)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import Session, select

from issuer.intake import parse_results
from issuer.pipeline import Issuance, stage_results, staged_link_key
from issuer.signing import SignatureLevel
from issuer.storing import retry_delays, sign_and_store_batch
from issuer.trust_services import SigningServiceUnavailable
from offchain_store.crypto import decrypt_document, unwrap_data_key
from offchain_store.records import CertificateRecord, CertificateState, KeyWrapRecord, WrapKind
from sceau import compose
from tests.conftest import SceauEnv
from tests.pki.certomancer_pki import PkiServer, ServedPki
from tests.ports import free_port

pytestmark = pytest.mark.chain

HEADER = (
    "result_id,candidate_name,date_of_birth,candidate_number,email,exam,language,level,"
    "skill_listening,session_date,centre\n"
)
BATCH_SIZE = 4


def batch_size(workers: int) -> int:
    """Enough certificates that some are sent to sign after the TSA stops: a pool keeps up to
    4 × workers in flight, and those may all be signed before the first one is taken."""
    return BATCH_SIZE if workers == 1 else 4 * workers + BATCH_SIZE


class RecordedProgress:
    """Keeps every phase the batch announces, as the CLI would show them."""

    def __init__(self) -> None:
        self.phases: list[str] = []

    def start(self, phase: str, total: int) -> None:
        self.phases.append(phase)

    def advance(self, phase: str, amount: int = 1) -> None:
        pass


@pytest.fixture
def tsa(certomancer_pki: ServedPki) -> Iterator[PkiServer]:
    """A TSA of its own (the same PKI on another port), so the test can stop and restart it."""
    server = PkiServer(certomancer_pki.arch, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def issuance_with_tsa(
    env: SceauEnv, served: ServedPki, tsa: PkiServer, *, workers: int
) -> tuple[Issuance, RecordedProgress, str]:
    """The environment's issuance, signing at B-LTA with `tsa`, and one staged batch."""
    progress = RecordedProgress()
    identity = served.identity(
        SignatureLevel.B_LTA,
        tsa_url=f"http://127.0.0.1:{tsa.port}/sceau-test/tsa/tsa",
        tsa_timeout_seconds=2.0,
    )
    issuance = dataclasses.replace(
        compose.issuance(env.settings), signing=identity, progress=progress, workers=workers
    )
    rows = "".join(
        f"R-OUT-{n},Camille Durand,1990-05-01,C{n},c{n}@example.org,DCL,Anglais,B2,B1,"
        "2026-10-14,Lyon\n"
        for n in range(batch_size(workers))
    )
    report = parse_results((HEADER + rows).encode(), name="outage.csv", today=date(2026, 11, 22))
    outcome = stage_results(issuance, report, (HEADER + rows).encode())
    return issuance, progress, outcome.batch_ids[0]


def stored_pdfs(issuance: Issuance, batch_id: str) -> list[bytes]:
    """Decrypt every stored PDF of the batch with its candidate link key."""
    pdfs = []
    with Session(issuance.engine) as session:
        records = session.exec(
            select(CertificateRecord).where(CertificateRecord.batch_id == batch_id)
        ).all()
        for record in records:
            assert record.state == CertificateState.STORED
            wrap = session.exec(
                select(KeyWrapRecord).where(
                    KeyWrapRecord.certificate_id == record.id,
                    KeyWrapRecord.kind == WrapKind.CANDIDATE,
                )
            ).one()
            aad = bytes.fromhex(record.id)
            key = unwrap_data_key(
                wrap.wrapped, staged_link_key(issuance, record), associated_data=aad
            )
            pdfs.append(decrypt_document(issuance.blobs.get(record.id), key, associated_data=aad))
    return pdfs


def is_b_lta(pdf: bytes) -> bool:
    reader = PdfFileReader(BytesIO(pdf))
    signature = reader.embedded_regular_signatures[0]
    unsigned = signature.signer_info["unsigned_attrs"]
    stamped = unsigned.native and any(
        a["type"].native == "signature_time_stamp_token" for a in unsigned
    )
    return (
        bool(stamped) and "/DSS" in reader.root and len(reader.embedded_timestamp_signatures) == 1
    )


@pytest.mark.parametrize(
    "workers",
    [1, pytest.param(2, marks=pytest.mark.slow)],  # a process pool per attempt: ~20 s
)
def test_batch_waits_for_the_tsa_and_finishes_when_it_is_back(
    sceau_env: SceauEnv, certomancer_pki: ServedPki, tsa: PkiServer, workers: int
) -> None:
    issuance, progress, batch_id = issuance_with_tsa(
        sceau_env, certomancer_pki, tsa, workers=workers
    )
    waits: list[float] = []
    signed = 0

    def stop_tsa_after_the_first(point: str) -> None:
        nonlocal signed
        if point == "after_sign":
            signed += 1
            if signed == 1:
                tsa.stop()

    def restart_tsa_after_two_waits(delay: float) -> None:
        waits.append(delay)
        if len(waits) == 2:
            tsa.start()

    issuance = dataclasses.replace(issuance, fault=stop_tsa_after_the_first)
    count = sign_and_store_batch(
        issuance, batch_id, retry_seconds=60, sleep=restart_tsa_after_two_waits
    )

    assert count == batch_size(workers)
    assert len(waits) == 2
    waiting = [p for p in progress.phases if p.startswith("waiting")]
    assert len(waiting) == 2
    assert f"time-stamping authority at 127.0.0.1:{tsa.port}" in waiting[0]
    pdfs = stored_pdfs(issuance, batch_id)
    assert len(pdfs) == batch_size(workers)
    assert all(is_b_lta(pdf) for pdf in pdfs)


def test_an_outage_past_the_budget_leaves_the_batch_resumable(
    sceau_env: SceauEnv, certomancer_pki: ServedPki, tsa: PkiServer
) -> None:
    issuance, progress, batch_id = issuance_with_tsa(sceau_env, certomancer_pki, tsa, workers=1)
    tsa.stop()
    waits: list[float] = []

    with pytest.raises(SigningServiceUnavailable, match="sceau resume"):
        sign_and_store_batch(issuance, batch_id, retry_seconds=7, sleep=waits.append)

    assert waits == [2.0, 4.0, 1.0]  # exponential, trimmed to the budget
    assert sum(p.startswith("waiting") for p in progress.phases) == 3
    with Session(issuance.engine) as session:
        states = session.exec(
            select(CertificateRecord.state).where(CertificateRecord.batch_id == batch_id)
        ).all()
    assert set(states) == {CertificateState.IMPORTED}  # nothing weaker was stored

    tsa.start()  # `sceau resume` runs the same step again
    assert sign_and_store_batch(issuance, batch_id, sleep=waits.append) == BATCH_SIZE
    assert all(is_b_lta(pdf) for pdf in stored_pdfs(issuance, batch_id))


def test_retry_delays_double_up_to_a_cap_and_add_up_to_the_budget() -> None:
    delays = list(retry_delays(200, first=2, longest=60))
    assert delays[:6] == [2, 4, 8, 16, 32, 60]
    assert sum(delays) == 200
