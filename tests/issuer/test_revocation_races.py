"""A revocation transaction that reverts (its leaf revoked meanwhile) blocks nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from contracts.client import PreparedTransaction, RegistryClient, RevocationReason, Role
from issuer.revocation import Revocations, carry_out, decide, request_by_candidate, requests
from offchain_store.crypto import LinkKey
from offchain_store.records import CertificateRecord, CertificateState, RequestKind, RequestState
from sceau import compose
from tests.conftest import SceauEnv
from tests.sceau.helpers import read_outbox, run_sceau, subset_of_sample


@dataclass
class RevokedFirstByAnother:
    """The real client, except that another revoker revokes the leaf just before ours is sent."""

    client: RegistryClient
    other: RegistryClient
    leaf: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.client, name)

    def send(self, prepared: PreparedTransaction) -> str:
        if self.other.revocation_of(self.leaf) is None:
            self.other.revoke(self.leaf, RevocationReason.FRAUD)
        return self.client.send(prepared)


def test_reverted_revocation_is_retried_then_shredded(sceau_env: SceauEnv) -> None:
    results = subset_of_sample(sceau_env.root / "results.csv", 1)
    assert run_sceau(sceau_env.config_file, "issue", str(results)).returncode == 0
    [message] = read_outbox(sceau_env.settings.mail.outbox)
    cert_id, leaf = message.receipt.certificate_id, message.receipt.leaf
    key = LinkKey.from_token(message.text.split(f"/me/{cert_id}#")[1][:43])
    engine = compose.database(sceau_env.settings)
    now = datetime.now(UTC)
    request = request_by_candidate(
        engine,
        certificate_id=cert_id,
        candidate_key=key,
        kind=RequestKind.REVOCATION,
        explanation="",
        now=now,
    )
    decide(engine, request.id, approve=True, actor="test", note="ok", now=now)

    chain = sceau_env.chain
    chain.client(chain.admin).grant_role(Role.REVOKER, chain.admin.address)
    racing = RevokedFirstByAnother(
        client=compose.registry(
            sceau_env.settings, account=compose.revoking_account(sceau_env.settings)
        ),
        other=chain.client(chain.admin),
        leaf=leaf,
    )
    revocations = Revocations(
        engine=engine,
        blobs=compose.blob_store(sceau_env.settings),
        chain=racing,  # type: ignore[arg-type]
    )

    assert carry_out(revocations, actor="test") == 0  # ours reverted: approved again, no error
    assert carry_out(revocations, actor="test") == 1  # the leaf is revoked: only shredding left

    with Session(engine) as session:
        cert = session.get(CertificateRecord, cert_id)
        assert cert is not None and cert.state == CertificateState.REVOKED
        assert cert.revocation_reason == "holder_request"
    assert [r.state for r in requests(engine)] == [RequestState.DONE]
    assert chain.client().revocation_of(leaf) is not None
