"""The share-link entry point: open a share with its key, then check everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from contracts.profile import IssuerProfile
from contracts.receipt import Receipt
from offchain_store.blobs import BlobStore
from offchain_store.crypto import LinkKey
from offchain_store.records import BatchRecord, CertificateRecord, ShareRecord
from offchain_store.shares import (
    CertificateRevoked,
    ShareEnded,
    ShareExhausted,
    ShareExpired,
    ShareNotFound,
    find_share,
    open_share,
)
from verifier.chain import DEFAULT_TIMEOUT, ChainCache, read_leaf
from verifier.checks import share as share_checks
from verifier.checks.revocation import check_revocation
from verifier.independent import REQUIRED_CHECKS, verify_with_receipt
from verifier.report import CheckName, CheckResult, VerificationReport, build_report
from verifier.turns import waiting

REQUIRED_FOR_SHARE = (CheckName.SHARE, CheckName.DECRYPTION, *REQUIRED_CHECKS)


@dataclass(frozen=True)
class SharedCertificate:
    """What a share link shows: the report, and the PDF only when it could be opened."""

    report: VerificationReport
    pdf: bytes | None
    share: ShareRecord | None
    receipt: Receipt | None = None


@dataclass(frozen=True, kw_only=True)
class VerificationContext:
    """Where verification looks: the records, the blobs, the chain and the issuer's profile."""

    engine: Engine
    blobs: BlobStore
    rpc_url: str
    profile: IssuerProfile
    timeout: float = DEFAULT_TIMEOUT
    cache: ChainCache | None = None


def verify_share(
    context: VerificationContext, *, share_id: str, token: str, now: datetime, client: str
) -> SharedCertificate:
    """Open share `share_id` with the key from its link and check the certificate fully.

    A key that does not open the certificate (mistyped, incomplete) says nothing about the
    certificate: `WrongLinkKey` and `MalformedToken` propagate, for the caller to say so.
    """
    try:
        key = LinkKey.from_token(token)
        opened = open_share(
            context.engine,
            _ReadWaiting(context.blobs),
            share_id=share_id,
            share_key=key,
            now=now,
            client=client,
        )
    except ShareNotFound:
        return _refused(None, share_checks.share_unknown(), now)
    except ShareExpired as expired:
        return _refused(share_id, share_checks.share_expired(expired.at), now)
    except ShareEnded:
        return _refused(share_id, share_checks.share_ended(), now)
    except ShareExhausted:
        return _refused(share_id, share_checks.share_exhausted(), now)
    except CertificateRevoked as revoked:
        return _tombstone(context, share_id, revoked.certificate_id, now)
    text = opened.record.receipt or ""
    receipt = context.cache.receipt(text) if context.cache else Receipt.from_json(text)
    report = verify_with_receipt(
        opened.pdf,
        receipt,
        rpc_url=context.rpc_url,
        profile=context.profile,
        now=now,
        timeout=context.timeout,
        cache=context.cache,
    )
    checks: tuple[CheckResult, ...] = (
        share_checks.share_open(opened.share.expires_at if opened.share else None),
        share_checks.decryption_ok(),
        *report.checks,
    )
    full = build_report(
        certificate_id=receipt.certificate_id,
        checks=checks,
        required=REQUIRED_FOR_SHARE,
        checked_at=now,
    )
    return SharedCertificate(report=full, pdf=opened.pdf, share=opened.share, receipt=receipt)


class _ReadWaiting:
    """The blob store, its reads marked as waits (see verifier.turns): an S3 read gives this
    thread's turn to another meanwhile. open_share reads with no database connection held."""

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    def get(self, key: str) -> bytes:
        with waiting():
            return self._blobs.get(key)

    def put(self, key: str, data: bytes) -> None:
        self._blobs.put(key, data)

    def delete(self, key: str) -> bool:
        return self._blobs.delete(key)

    def exists(self, key: str) -> bool:
        return self._blobs.exists(key)


def _refused(
    share_id: str | None, checks: CheckResult | tuple[CheckResult, ...], now: datetime
) -> SharedCertificate:
    results = checks if isinstance(checks, tuple) else (checks,)
    report = build_report(
        certificate_id=None, checks=results, required=REQUIRED_FOR_SHARE, checked_at=now
    )
    return SharedCertificate(report=report, pdf=None, share=None)


def _tombstone(
    context: VerificationContext, share_id: str, certificate_id: str, now: datetime
) -> SharedCertificate:
    """A revoked certificate: nothing to decrypt; the chain says when and why it was revoked."""
    share = find_share(context.engine, share_id)
    checks = (share_checks.share_open(), share_checks.content_shredded())
    return SharedCertificate(
        report=tombstone_report(context, certificate_id, checks, now), pdf=None, share=share
    )


def tombstone_report(
    context: VerificationContext,
    certificate_id: str,
    checks: tuple[CheckResult, ...],
    now: datetime,
) -> VerificationReport:
    """REVOKED (or ERROR if the chain cannot say so) for a shredded certificate."""
    with Session(context.engine) as session:
        record = session.get(CertificateRecord, certificate_id)
        batch = session.get(BatchRecord, record.batch_id) if record else None
    revocation = []
    if record is not None and record.leaf and batch and batch.chain_id and batch.contract_address:
        reading = read_leaf(
            context.rpc_url,
            chain_id=batch.chain_id,
            contract=batch.contract_address,
            leaf=record.leaf,
            timeout=context.timeout,
            cache=context.cache,
        )
        revocation.append(check_revocation(reading))
    return build_report(
        certificate_id=certificate_id,
        checks=(*checks, *revocation),
        required=REQUIRED_FOR_SHARE,
        checked_at=now,
    )
