"""The real test PKI over HTTP (see `issuer.dev_trust_services`), started once per session
on a free port, and what tests need around it: signing identities, revocation data.

``PkiServer`` and ``PkiFiles`` are re-exported so tests keep importing them from here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from certomancer.registry import CertLabel, PKIArchitecture
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import RevokedError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from issuer.dev_trust_services import (
    REVOKED_BEFORE_START,
    PkiFiles,
    PkiServer,
    build_pki,
    local_base_url,
    ocsp_url,
    tsa_url,
    write_files,
)
from issuer.signing import SignatureLevel, SigningIdentity
from tests.ports import free_port

__all__ = ["PkiFiles", "PkiServer", "ServedPki", "certomancer_pki", "with_revocation_data"]


@dataclass(frozen=True)
class ServedPki:
    """A running test PKI: its URLs, files, and when the revoked signer was revoked."""

    base_url: str
    tsa_url: str
    ocsp_url: str
    files: PkiFiles
    arch: PKIArchitecture
    revoked_at: datetime
    signer_not_after: datetime

    def identity(
        self, level: SignatureLevel | None = None, *, revoked: bool = False, **extra: object
    ) -> SigningIdentity:
        """A signing identity on this PKI (the valid signer unless `revoked`), with the TSA."""
        key, cert = (
            (self.files.revoked_signer_key, self.files.revoked_signer_cert)
            if revoked
            else (self.files.signer_key, self.files.signer_cert)
        )
        values: dict[str, object] = {
            "key_file": key,
            "cert_file": cert,
            "chain_files": (self.files.interm_cert, self.files.root_cert),
            "level": level,
            "tsa_url": self.tsa_url,
            "tsa_timeout_seconds": 5.0,
            **extra,
        }
        return SigningIdentity.model_validate(values)


def serve_pki(directory: Path) -> tuple[ServedPki, PkiServer]:
    """Build the PKI for a free port in `directory` and start serving it."""
    port = free_port()
    base_url = local_base_url(port)
    start = datetime.now(UTC)
    arch = build_pki(directory, base_url, now=start)
    files = write_files(arch, directory)
    server = PkiServer(arch, port)
    server.start()
    signer = arch.get_cert(CertLabel("signer"))
    served = ServedPki(
        base_url=base_url,
        tsa_url=tsa_url(base_url),
        ocsp_url=ocsp_url(base_url),
        files=files,
        arch=arch,
        revoked_at=start - REVOKED_BEFORE_START,
        signer_not_after=signer.not_valid_after,
    )
    return served, server


@pytest.fixture(scope="session")
def certomancer_pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPki]:
    """The test PKI, served on 127.0.0.1 for the whole session; stopped at the end."""
    served, server = serve_pki(tmp_path_factory.mktemp("certomancer"))
    try:
        yield served
    finally:
        server.stop()


def with_revocation_data(pdf: bytes, served: ServedPki, *, revoked: bool) -> bytes:
    """`pdf` plus a DSS holding the chain's revocation data as the PKI serves it now.

    For the revoked signer pyHanko refuses to sign at B-LT, so tests build what a later
    LTV augmentation of a B-T copy would carry: the OCSP answer saying "revoked".
    """
    files = served.files
    leaf_file = files.revoked_signer_cert if revoked else files.signer_cert
    leaf, interm, root = (
        load_cert_from_pemder(str(p)) for p in (leaf_file, files.interm_cert, files.root_cert)
    )
    context = ValidationContext(
        trust_roots=[root],
        other_certs=[interm],
        allow_fetching=True,
        revocation_mode="hard-fail",
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=5),
    )
    validator = CertificateValidator(leaf, validation_context=context)
    with contextlib.suppress(RevokedError):
        asyncio.run(validator.async_validate_usage(set()))
    signature = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures[0]
    output = BytesIO(pdf)
    DocumentSecurityStore.add_dss(
        output,
        signature.pkcs7_content,
        certs=[interm, root],
        ocsps=context.ocsps,
        crls=context.crls,
    )
    return output.getvalue()
