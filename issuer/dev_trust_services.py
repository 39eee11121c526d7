"""A real PKI with its trust services for development and tests, served on 127.0.0.1 by
certomancer's animator: root and issuing CAs with CRLs, an OCSP responder, a signing
certificate and an RFC 3161 time-stamping authority. Never for production.

Architecture "sceau-test" (every key ECDSA P-256, generated on the machine, so nothing secret is
committed):

- ``root`` (self-signed) publishes a CRL of the certificates it issues;
- ``interm`` (issued by root) publishes a CRL and runs an OCSP responder (``interm-ocsp``);
- ``signer`` (issued by interm): the issuer's PAdES signing certificate, CRL + OCSP pointers;
- ``signer-revoked`` (issued by interm): revoked (key compromise) one hour before the build;
- ``signer2`` (issued by interm): a second valid signing certificate, its own key (rotation);
- ``tsa`` (issued by root): an RFC 3161 time-stamping authority.

Certomancer writes absolute URLs (CRL distribution points, OCSP in AIA) into the certificates,
so the configuration is generated for one base URL, port included. Needs the ``dev`` extras
(certomancer, werkzeug).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, PKIArchitecture
from certomancer.services import CertomancerServiceError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

ARCH = "sceau-test"
KEY_LABELS = ("root", "interm", "interm-ocsp", "signer", "signer-revoked", "signer2", "tsa")
CERT_LABELS = ("root", "interm", "signer", "signer-revoked", "signer2", "tsa")
CONFIG_NAME = "certomancer.yml"
# Fixed so tests can tell the revocation time from the signing time.
REVOKED_BEFORE_START = timedelta(hours=1)
# A reused PKI whose signing certificate expires sooner than this is built again.
MIN_REMAINING_VALIDITY = timedelta(days=7)
_PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class PkiFiles:
    """PEM files of the PKI, as a Sceau configuration points at them."""

    root_cert: Path
    interm_cert: Path
    signer_key: Path
    signer_cert: Path
    revoked_signer_key: Path
    revoked_signer_cert: Path
    tsa_cert: Path
    signer2_key: Path  # a second valid signer, to rotate to
    signer2_cert: Path


@dataclass(frozen=True)
class LocalPki:
    """The PKI kept in a directory: its architecture, files and service URLs."""

    base_url: str
    arch: PKIArchitecture
    files: PkiFiles
    reused: bool  # False: built by this call (first run, or the old one no longer fitted)

    @property
    def tsa_url(self) -> str:
        return tsa_url(self.base_url)

    @property
    def ocsp_url(self) -> str:
        return ocsp_url(self.base_url)


def tsa_url(base_url: str) -> str:
    """Where the architecture's time-stamping authority answers."""
    return f"{base_url}/{ARCH}/tsa/tsa"


def ocsp_url(base_url: str) -> str:
    """Where the issuing CA's OCSP responder answers."""
    return f"{base_url}/{ARCH}/ocsp/interm"


def local_base_url(port: int) -> str:
    """The base URL of the services served on 127.0.0.1 at `port`."""
    return f"http://127.0.0.1:{port}"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per OCSP or TSA request would drown the output


class PkiServer:
    """Certomancer's animator for one architecture, served on 127.0.0.1 in a thread."""

    def __init__(self, arch: PKIArchitecture, port: int) -> None:
        self._app = Animator(AnimatorArchStore({arch.arch_label: arch}), with_web_ui=False)
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen on 127.0.0.1 (raises OSError when the port is taken) and serve in a thread."""
        server = make_server(
            "127.0.0.1", self.port, self._app, threaded=True, request_handler=_QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, name="certomancer", daemon=True)
        thread.start()
        self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop serving and free the port; does nothing when not started."""
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = self._thread = None


def open_or_build_pki(directory: Path, base_url: str, *, now: datetime | None = None) -> LocalPki:
    """The PKI in `directory` if it is complete, made for `base_url` and not about to expire;
    otherwise a new one, built there (replacing the old keys and certificates)."""
    now = now or datetime.now(UTC)
    existing = _open_pki(directory, base_url, now=now)
    if existing is not None:
        return existing
    directory.mkdir(parents=True, exist_ok=True)
    arch = build_pki(directory, base_url, now=now)
    return LocalPki(base_url=base_url, arch=arch, files=write_files(arch, directory), reused=False)


def build_pki(directory: Path, base_url: str, *, now: datetime | None = None) -> PKIArchitecture:
    """Generate the keys (0600) and the certomancer configuration in `directory`; load it."""
    start = now or datetime.now(UTC)
    for label in KEY_LABELS:
        key = ec.generate_private_key(ec.SECP256R1())
        _write_private(
            directory / f"{label}.key.pem",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    config = _config(base_url, start)
    (directory / CONFIG_NAME).write_text(yaml.safe_dump(config, sort_keys=False))
    return _load_arch(config, directory)


def write_files(arch: PKIArchitecture, directory: Path) -> PkiFiles:
    """Write the certificates as PEM next to the keys."""
    for label in CERT_LABELS:
        _cert_path(directory, label).write_bytes(_cert(arch, label).public_bytes(_PEM))
    return _files(directory)


def _open_pki(directory: Path, base_url: str, *, now: datetime) -> LocalPki | None:
    """The PKI already in `directory`, or None when it is missing, partial, for another URL,
    inconsistent with its configuration or about to expire."""
    files = _files(directory)
    needed = [directory / CONFIG_NAME, *(directory / f"{k}.key.pem" for k in KEY_LABELS)]
    if not all(
        path.is_file() for path in [*needed, *(_cert_path(directory, c) for c in CERT_LABELS)]
    ):
        return None
    try:
        config = yaml.safe_load((directory / CONFIG_NAME).read_text())
        if not isinstance(config, dict) or config.get("external-url-prefix") != base_url:
            return None
        arch = _load_arch(config, directory)
        on_disk = {
            c: x509.load_pem_x509_certificate(_cert_path(directory, c).read_bytes())
            for c in CERT_LABELS
        }
        # Certomancer regenerates the certificates from the configuration (same content, fresh
        # signatures): the files must hold the same to-be-signed parts, or keys were changed.
        if any(
            cert.tbs_certificate_bytes != _cert(arch, label).tbs_certificate_bytes
            for label, cert in on_disk.items()
        ):
            return None
    except (OSError, ValueError, yaml.YAMLError, CertomancerServiceError):
        return None
    if on_disk["signer"].not_valid_after_utc - now < MIN_REMAINING_VALIDITY:
        return None
    return LocalPki(base_url=base_url, arch=arch, files=files, reused=True)


def _load_arch(config: dict[str, object], directory: Path) -> PKIArchitecture:
    loaded = CertomancerConfig(config, key_search_dir=str(directory))
    return loaded.get_pki_arch(ArchLabel(ARCH))


def _cert(arch: PKIArchitecture, label: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(arch.get_cert(CertLabel(label)).dump())


def _cert_path(directory: Path, label: str) -> Path:
    return directory / f"{label}.cert.pem"


def _files(directory: Path) -> PkiFiles:
    return PkiFiles(
        root_cert=_cert_path(directory, "root"),
        interm_cert=_cert_path(directory, "interm"),
        signer_key=directory / "signer.key.pem",
        signer_cert=_cert_path(directory, "signer"),
        revoked_signer_key=directory / "signer-revoked.key.pem",
        revoked_signer_cert=_cert_path(directory, "signer-revoked"),
        tsa_cert=_cert_path(directory, "tsa"),
        signer2_key=directory / "signer2.key.pem",
        signer2_cert=_cert_path(directory, "signer2"),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only, from the first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode through O_CREAT
        file.write(data)


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
                    "signer2": {"common-name": "Institut Linguistique de Lyon (new key)"},
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
                    "signer2": {**signer, "subject": "signer2"},
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
