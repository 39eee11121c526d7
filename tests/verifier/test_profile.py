"""The issuer profile: self-checking, JSON round trip, periods of use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from contracts.profile import AnchoringAddress, InvalidProfile, IssuerProfile, SigningCertificate
from issuer.dev_pki import DevPki

T0 = datetime(2026, 1, 1, tzinfo=UTC)
OLD_ADDRESS = "0x" + "11" * 20
NEW_ADDRESS = "0x" + "22" * 20


def rotated_profile(issuer_pki: DevPki, rogue_pki: DevPki) -> IssuerProfile:
    """A profile whose key and anchoring account were rotated on T0 + 1 year."""
    rotation = T0 + timedelta(days=365)
    return IssuerProfile(
        name="Institut",
        public_base_url="https://certs.example.org",
        chain_id=31337,
        contract="0x" + "ab" * 20,
        anchoring_addresses=(
            AnchoringAddress(address=OLD_ADDRESS, valid_from=T0, valid_until=rotation),
            AnchoringAddress(address=NEW_ADDRESS, valid_from=rotation),
        ),
        signing_certificates=(
            SigningCertificate(
                pem=issuer_pki.issuer_cert.read_text(), valid_from=T0, valid_until=rotation
            ),
            SigningCertificate(pem=rogue_pki.issuer_cert.read_text(), valid_from=rotation),
        ),
        trust_roots=(issuer_pki.root_cert.read_text(), rogue_pki.root_cert.read_text()),
    )


def test_periods_of_use(issuer_pki: DevPki, rogue_pki: DevPki) -> None:
    profile = rotated_profile(issuer_pki, rogue_pki)
    first = x509.load_pem_x509_certificate(issuer_pki.issuer_cert.read_bytes())
    before, during, after = (
        T0 - timedelta(seconds=1),
        T0 + timedelta(days=1),
        T0 + timedelta(days=400),
    )

    assert profile.anchoring_address_at("0x" + OLD_ADDRESS[2:].upper(), during)
    assert not profile.anchoring_address_at(OLD_ADDRESS, before)
    assert not profile.anchoring_address_at(OLD_ADDRESS, after)
    assert profile.anchoring_address_at(NEW_ADDRESS, after)
    assert profile.signing_certificate_at(first, during)
    assert profile.signing_certificate_at(first.public_bytes(Encoding.DER), during)
    assert not profile.signing_certificate_at(first, after)


def test_round_trip(issuer_pki: DevPki, rogue_pki: DevPki) -> None:
    profile = rotated_profile(issuer_pki, rogue_pki)
    assert IssuerProfile.from_json(profile.to_json()) == profile
    assert json.loads(profile.to_json())["format"] == "sceau-issuer-profile/1"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"format": "sceau-issuer-profile/2"}, "format"),
        ({"trust_roots": ["not a certificate"]}, "trust_roots"),
        ({"anchoring_addresses": []}, "anchoring_addresses"),
        ({"contract": "0x1234"}, "contract"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_malformed_profiles_are_refused(
    issuer_pki: DevPki, rogue_pki: DevPki, change: dict[str, object], where: str
) -> None:
    doc = json.loads(rotated_profile(issuer_pki, rogue_pki).to_json())
    doc.update(change)
    with pytest.raises(InvalidProfile, match=where):
        IssuerProfile.from_json(json.dumps(doc))


def test_a_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="later than valid_from"):
        AnchoringAddress(address=OLD_ADDRESS, valid_from=T0, valid_until=T0)


def test_naive_dates_are_refused() -> None:
    with pytest.raises(ValueError):
        AnchoringAddress(address=OLD_ADDRESS, valid_from=datetime(2026, 1, 1))


def test_not_json_is_refused() -> None:
    with pytest.raises(InvalidProfile, match="not JSON"):
        IssuerProfile.from_json(b"{")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"contract": "0x5fBDB2315678afecb367f032d93F642f64180aa3"}, "EIP-55"),
        (
            {
                "anchoring_addresses": [
                    {
                        "address": "0x5fBDB2315678afecb367f032d93F642f64180aa3",
                        "valid_from": "2026-01-01T00:00:00Z",
                    }
                ]
            },
            "EIP-55",
        ),
        ({"chain_id": "31337"}, "chain_id"),
        (
            {
                "anchoring_addresses": [
                    {"address": OLD_ADDRESS, "valid_from": "2026-01-01T00:00:00Z", "note": "x"}
                ]
            },
            "note",
        ),
        (
            {"anchoring_addresses": [{"address": OLD_ADDRESS, "valid_from": "2026-01-01"}]},
            "valid_from",
        ),
    ],
)
def test_profiles_are_parsed_as_strictly_as_receipts(
    issuer_pki: DevPki, rogue_pki: DevPki, change: dict[str, object], where: str
) -> None:
    doc = json.loads(rotated_profile(issuer_pki, rogue_pki).to_json())
    doc.update(change)
    with pytest.raises(InvalidProfile, match=where):
        IssuerProfile.from_json(json.dumps(doc))


def test_a_duplicate_inside_an_entry_is_refused(issuer_pki: DevPki, rogue_pki: DevPki) -> None:
    text = rotated_profile(issuer_pki, rogue_pki).to_json().decode()
    doubled = text.replace('"valid_until": null', '"valid_until": null, "valid_until": null', 1)
    with pytest.raises(InvalidProfile, match="appears twice"):
        IssuerProfile.from_json(doubled)


def test_the_published_hash_is_of_the_bytes_received(issuer_pki: DevPki, rogue_pki: DevPki) -> None:
    import hashlib

    from contracts.profile import PublishedProfile

    canonical = rotated_profile(issuer_pki, rogue_pki).to_json()
    spaced = canonical.replace(b": ", b" :  ")
    assert PublishedProfile.from_bytes(canonical) == PublishedProfile.of(
        IssuerProfile.from_json(canonical)
    )
    assert PublishedProfile.from_bytes(spaced).sha256 == hashlib.sha256(spaced).digest()
    assert PublishedProfile.from_bytes(spaced).profile == IssuerProfile.from_json(canonical)


PROFILE_VECTORS = Path(__file__).parents[1] / "assets" / "receipts" / "profiles"
REFUSED_PROFILES = sorted(json.loads((PROFILE_VECTORS / "index.json").read_text()))


@pytest.mark.parametrize("defect", REFUSED_PROFILES)
def test_every_refused_profile_vector_is_refused(defect: str) -> None:
    """docs/profile.md section 1.2: PEM form (CRLF, no final LF, two blocks, text around) and
    the same rules for `trust_roots`; URL and integer ranges."""
    with pytest.raises(InvalidProfile):
        IssuerProfile.from_json((PROFILE_VECTORS / f"{defect}.json").read_bytes())


def test_the_example_profile_itself_parses() -> None:
    raw = (PROFILE_VECTORS.parent / "example" / "profile.json").read_bytes()
    assert IssuerProfile.from_json(raw).chain_id == 31337
