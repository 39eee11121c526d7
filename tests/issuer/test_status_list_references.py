"""What the issuer writes in receipts and profiles about its status list: the list's URL (the
one it serves and signs as `sub`) and the certificate's random slot, as the strict documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from contracts.profile import IssuerProfile
from contracts.receipt import Receipt
from issuer.status_list import (
    StatusListError,
    StatusListPolicy,
    StatusReference,
    profile_status_list,
    receipt_status,
    reference_of,
)
from offchain_store.records import (
    BatchRecord,
    CertificateRecord,
    CertificateState,
    IssuerRecord,
    create_schema,
    make_engine,
)
from offchain_store.statuses import assign_slot

ASSETS = Path(__file__).parents[1] / "assets" / "receipts"
POLICY = StatusListPolicy(public_base_url="https://certs.ill.example.org/")
ISSUER = "ill-lyon"
CERTIFICATE = "38b6ff596f03d17fd0872273a4591bdf"  # the example receipt's


@pytest.fixture
def engine(database_url: str) -> Engine:
    """The records on SQLite, then on PostgreSQL."""
    engine = make_engine(database_url)
    create_schema(engine)
    with Session(engine) as session:
        session.add(IssuerRecord(id=ISSUER, name="Institut Linguistique de Lyon"))
        session.commit()
        session.add(BatchRecord(id="b1", issuer_id=ISSUER, source_name="r.csv", source_sha256="0"))
        session.commit()
        session.add(
            CertificateRecord(
                id=CERTIFICATE,
                issuer_id=ISSUER,
                result_id="R1",
                batch_id="b1",
                source_line=2,
                state=CertificateState.STORED,
            )
        )
        session.commit()
    return engine


def test_the_profile_names_the_list_the_issuer_serves() -> None:
    entry = POLICY.in_profile(ISSUER)
    assert (entry.uri, entry.bits) == ("https://certs.ill.example.org/status/ill-lyon", 2)
    document = json.loads((ASSETS / "example" / "profile.json").read_bytes())
    profile = IssuerProfile.from_json(json.dumps(document))
    listed = profile.model_copy(update={"status_list": entry})
    assert IssuerProfile.from_json(listed.to_json()) == listed
    assert listed.to_json() == (ASSETS / "accepted" / "profile_with_status_list.json").read_bytes()


def test_a_receipt_gets_no_status_before_its_slot_then_the_slot_drawn_at_sealing(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        assert receipt_status(session, POLICY, issuer_id=ISSUER, certificate_id=CERTIFICATE) is None
        slot = assign_slot(session, ISSUER, CERTIFICATE)  # when its batch is sealed
        session.commit()
        status = receipt_status(session, POLICY, issuer_id=ISSUER, certificate_id=CERTIFICATE)
    assert status is not None
    assert status.status_list.idx == slot.idx
    assert status.status_list.uri == POLICY.url(ISSUER)
    # The wallet credential's claim and the receipt's member name the same entry.
    reference = reference_of(engine, POLICY, issuer_id=ISSUER, certificate_id=CERTIFICATE)
    assert reference.in_receipt() == status
    assert reference.claim() == status.model_dump()


def test_the_status_goes_into_the_example_receipt_and_round_trips(engine: Engine) -> None:
    reference = reference_of(engine, POLICY, issuer_id=ISSUER, certificate_id=CERTIFICATE)
    example = Receipt.from_json((ASSETS / "example" / "receipt.json").read_bytes())
    receipt = example.model_copy(update={"status": reference.in_receipt()})
    again = Receipt.from_json(receipt.to_json())
    assert again == receipt and again.status == reference.in_receipt()
    assert json.loads(receipt.to_json())["status"]["status_list"]["idx"] == reference.idx


@pytest.mark.parametrize(
    "base",
    ["http://sceau.internal:8000", "ftp://certs.example.org", "https://user@certs.example.org"],
)
def test_a_list_url_no_document_may_carry_is_refused_in_plain_words(base: str) -> None:
    policy = StatusListPolicy(public_base_url=base)
    with pytest.raises(StatusListError, match="must be https"):
        policy.in_profile(ISSUER)
    with pytest.raises(StatusListError, match="must be https"):
        StatusReference(policy.url(ISSUER), 7).in_receipt()


def test_without_a_nameable_url_the_documents_leave_the_status_out(engine: Engine) -> None:
    """A development set-up on plain http off the loopback still delivers its receipts."""
    policy = StatusListPolicy(public_base_url="http://sceau.internal:8000")
    assert profile_status_list(policy, ISSUER) is None
    assert profile_status_list(POLICY, ISSUER) == POLICY.in_profile(ISSUER)
    with Session(engine) as session:
        assign_slot(session, ISSUER, CERTIFICATE)
        session.commit()
        assert receipt_status(session, policy, issuer_id=ISSUER, certificate_id=CERTIFICATE) is None
        assert receipt_status(session, POLICY, issuer_id=ISSUER, certificate_id=CERTIFICATE)


def test_an_index_beyond_the_receipts_range_is_refused() -> None:
    with pytest.raises(StatusListError, match="beyond"):
        StatusReference(POLICY.url(ISSUER), 2**32).in_receipt()
