"""The share-link entry point: a key that does not open the certificate is not a verdict."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from contracts.profile import IssuerProfile
from offchain_store.blobs import InMemoryBlobStore
from offchain_store.crypto import (
    LinkKey,
    encrypt_document,
    new_data_key,
    new_link_key,
    wrap_data_key,
)
from offchain_store.errors import MalformedToken
from offchain_store.records import (
    BatchRecord,
    CertificateRecord,
    CertificateState,
    KeyWrapRecord,
    WrapKind,
    create_schema,
    ensure_issuer,
    make_engine,
)
from offchain_store.shares import WrongLinkKey, create_share
from tests.conftest import AnvilChain
from tests.verifier.conftest import Issued
from verifier.report import Verdict
from verifier.share_link import VerificationContext, verify_share

pytestmark = pytest.mark.chain
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Shared:
    context: VerificationContext
    share_id: str
    share_key: LinkKey


def stored(engine: Engine, blobs: InMemoryBlobStore, issued: Issued) -> LinkKey:
    """The certificate as the issuer keeps it: encrypted, its data key wrapped for the candidate."""
    receipt = issued.receipt
    data_key, candidate_key = new_data_key(), new_link_key()
    aad = bytes.fromhex(receipt.certificate_id)
    blobs.put(receipt.certificate_id, encrypt_document(issued.pdf, data_key, associated_data=aad))
    with Session(engine) as session:
        ensure_issuer(session, "test", "Test")
        batch = BatchRecord(
            id=secrets.token_hex(16),
            issuer_id="test",
            source_name="r.csv",
            source_sha256="00" * 32,
            root=receipt.root,
        )
        session.add(batch)
        session.add(
            CertificateRecord(
                id=receipt.certificate_id,
                issuer_id="test",
                result_id="R-1",
                batch_id=batch.id,
                state=CertificateState.DELIVERED,
                source_line=1,
                pdf_sha256=receipt.pdf_sha256,
                leaf=receipt.leaf,
                receipt=receipt.to_json().decode(),
            )
        )
        session.add(
            KeyWrapRecord(
                certificate_id=receipt.certificate_id,
                kind=WrapKind.CANDIDATE,
                wrapped=wrap_data_key(data_key, candidate_key, associated_data=aad),
            )
        )
        session.commit()
    return candidate_key


@pytest.fixture
def shared(
    database_url: str,
    valid_certificate: Issued,
    anvil_chain: AnvilChain,
    issuer_profile: IssuerProfile,
) -> Shared:
    engine = make_engine(database_url)
    create_schema(engine)
    blobs = InMemoryBlobStore()
    candidate_key = stored(engine, blobs, valid_certificate)
    share, share_key = create_share(
        engine,
        certificate_id=valid_certificate.receipt.certificate_id,
        candidate_key=candidate_key,
        recipient="Employer",
        expires_at=NOW + timedelta(days=7),
        max_opens=None,
        now=NOW,
    )
    context = VerificationContext(
        engine=engine, blobs=blobs, rpc_url=anvil_chain.rpc_url, profile=issuer_profile
    )
    return Shared(context=context, share_id=share.id, share_key=share_key)


def test_the_right_key_opens_and_verifies(shared: Shared) -> None:
    result = verify_share(
        shared.context,
        share_id=shared.share_id,
        token=shared.share_key.to_token(),
        now=NOW,
        client="test",
    )

    assert result.report.verdict is Verdict.VALID
    assert result.pdf is not None


def test_a_wrong_key_raises_instead_of_reporting_invalid(shared: Shared) -> None:
    with pytest.raises(WrongLinkKey):
        verify_share(
            shared.context,
            share_id=shared.share_id,
            token=new_link_key().to_token(),
            now=NOW,
            client="test",
        )


def test_a_mistyped_key_raises_instead_of_reporting_invalid(shared: Shared) -> None:
    mistyped = shared.share_key.to_token()[:-3]
    with pytest.raises(MalformedToken):
        verify_share(shared.context, share_id=shared.share_id, token=mistyped, now=NOW, client="t")
