"""A real test PKI over HTTP: certomancer's animator on 127.0.0.1, started once per session.

Architecture "sceau-test" (every key ECDSA P-256, generated at start, so nothing secret is
committed):

- ``root`` (self-signed) publishes a CRL of the certificates it issues;
- ``interm`` (issued by root) publishes a CRL and runs an OCSP responder (``interm-ocsp``);
- ``signer`` (issued by interm): the issuer's PAdES signing certificate, CRL + OCSP pointers;
- ``signer-revoked`` (issued by interm): revoked (key compromise) one hour before start;
- ``tsa`` (issued by root): an RFC 3161 time-stamping authority.

Certomancer writes absolute URLs (CRL distribution points, OCSP in AIA) into the certificates,
so the YAML is generated at run time with the chosen port.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
import yaml
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, PKIArchitecture
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import RevokedError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from issuer.signing import SignatureLevel, SigningIdentity
from tests.ports import free_port

ARCH = "sceau-test"
KEY_LABELS = ("root", "interm", "interm-ocsp", "signer", "signer-revoked", "tsa")
# Fixed so tests can tell the revocation time from the signing time.
REVOKED_BEFORE_START = timedelta(hours=1)


@dataclass(frozen=True)
class PkiFiles:
    """PEM files of the test PKI, as a Sceau configuration points at them."""

    root_cert: Path
    interm_cert: Path
    signer_key: Path
    signer_cert: Path
    revoked_signer_key: Path
    revoked_signer_cert: Path
    tsa_cert: Path


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


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per OCSP or TSA request would drown the test output


class PkiServer:
    """Certomancer's animator for one architecture, served on 127.0.0.1 in a thread."""

    def __init__(self, arch: PKIArchitecture, port: int) -> None:
        self._app = Animator(AnimatorArchStore({arch.arch_label: arch}), with_web_ui=False)
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        server = make_server(
            "127.0.0.1", self.port, self._app, threaded=True, request_handler=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, name="certomancer", daemon=True)
        thread.start()
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None


def build_pki(directory: Path, base_url: str, *, now: datetime | None = None) -> PKIArchitecture:
    """Generate the keys and the certomancer configuration in `directory`; load it."""
    start = now or datetime.now(UTC)
    for label in KEY_LABELS:
        key = ec.generate_private_key(ec.SECP256R1())
        (directory / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    config = _config(base_url, start)
    (directory / "certomancer.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    loaded = CertomancerConfig(config, key_search_dir=str(directory))
    return loaded.get_pki_arch(ArchLabel(ARCH))


def _config(base_url: str, start: datetime) -> dict[str, object]:
    def validity(days_before: int, days_after: int) -> dict[str, str]:
        return {
            "valid-from": (start - timedelta(days=days_before)).isoformat(),
            "valid-to": (start + timedelta(days=days_after)).isoformat(),
        }

    signer = {
        "subject": "signer",
        "issuer": "interm",
        "validity": validity(30, 365),
        "profiles": ["digsig-commitment"],
    }
    return {
        "external-url-prefix": base_url,
        "keysets": {ARCH: {"keys": {label: {"path": f"{label}.key.pem"} for label in KEY_LABELS}}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "FR", "organization-name": "Sceau Test PKI"},
                "entities": {
                    "root": {"common-name": "Sceau Test Root CA"},
                    "interm": {"common-name": "Sceau Test Issuing CA"},
                    "interm-ocsp": {"common-name": "Sceau Test OCSP Responder"},
                    "signer": {"common-name": "Institut Linguistique de Lyon"},
                    "signer-revoked": {"common-name": "Institut Linguistique de Lyon (old key)"},
                    "tsa": {"common-name": "Sceau Test Time-Stamping Authority"},
                },
                "certs": {
                    "root": {
                        "subject": "root",
                        "issuer": "root",
                        "validity": validity(3650, 3650),
                        "profiles": [{"id": "simple-ca", "params": {"crl-repo": "root"}}],
                    },
                    "interm": {
                        "subject": "interm",
                        "issuer": "root",
                        "validity": validity(1000, 3000),
                        "profiles": [
                            {
                                "id": "simple-ca",
                                "params": {
                                    "max-path-len": 0,
                                    "crl-repo": "interm",
                                    "ocsp-service": "interm",
                                },
                            }
                        ],
                    },
                    "interm-ocsp": {
                        "subject": "interm-ocsp",
                        "issuer": "interm",
                        "validity": validity(1000, 3000),
                        "profiles": ["ocsp-responder"],
                    },
                    "signer": signer,
                    "signer-revoked": {
                        **signer,
                        "subject": "signer-revoked",
                        "revocation": {
                            "revoked-since": (start - REVOKED_BEFORE_START).isoformat(),
                            "reason": "key_compromise",
                        },
                    },
                    "tsa": {
                        "subject": "tsa",
                        "issuer": "root",
                        "validity": validity(1000, 3000),
                        "extensions": [
                            {
                                "id": "key_usage",
                                "critical": True,
                                "smart-value": {
                                    "schema": "key-usage",
                                    "params": ["digital_signature"],
                                },
                            },
                            {
                                "id": "extended_key_usage",
                                "critical": True,
                                "value": ["time_stamping"],
                            },
                        ],
                    },
                },
                "services": {
                    "ocsp": {
                        "interm": {
                            "for-issuer": "interm",
                            "responder-cert": "interm-ocsp",
                            "signing-key": "interm-ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {
                            "for-issuer": "root",
                            "signing-key": "root",
                            "simulated-update-schedule": "P90D",
                        },
                        "interm": {
                            "for-issuer": "interm",
                            "signing-key": "interm",
                            "simulated-update-schedule": "P7D",
                        },
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }


def write_files(arch: PKIArchitecture, directory: Path) -> PkiFiles:
    """Write the certificates as PEM next to the keys."""

    def cert(label: str) -> Path:
        path = directory / f"{label}.cert.pem"
        der = arch.get_cert(CertLabel(label)).dump()
        path.write_bytes(
            x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        )
        return path

    return PkiFiles(
        root_cert=cert("root"),
        interm_cert=cert("interm"),
        signer_key=directory / "signer.key.pem",
        signer_cert=cert("signer"),
        revoked_signer_key=directory / "signer-revoked.key.pem",
        revoked_signer_cert=cert("signer-revoked"),
        tsa_cert=cert("tsa"),
    )


def serve_pki(directory: Path) -> tuple[ServedPki, PkiServer]:
    """Build the PKI for a free port in `directory` and start serving it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    start = datetime.now(UTC)
    arch = build_pki(directory, base_url, now=start)
    files = write_files(arch, directory)
    server = PkiServer(arch, port)
    server.start()
    signer = arch.get_cert(CertLabel("signer"))
    served = ServedPki(
        base_url=base_url,
        tsa_url=f"{base_url}/{ARCH}/tsa/tsa",
        ocsp_url=f"{base_url}/{ARCH}/ocsp/interm",
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
