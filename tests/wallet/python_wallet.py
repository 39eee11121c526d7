"""A small wallet in Python for the refusal tests: it can send what a real wallet would not."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from joserfc import jws
from joserfc.jwk import ECKey

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CONFIGURATION = "sceau_certificate_sd_jwt"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def offer_code(offer_uri: str) -> str:
    offer = json.loads(parse_qs(urlparse(offer_uri).query)["credential_offer"][0])
    return str(offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"])


@dataclass
class PythonWallet:
    base_url: str
    key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256"))

    def token(self, code: str, tx_code: str | None) -> httpx.Response:
        form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code}
        if tx_code is not None:
            form["tx_code"] = tx_code
        return httpx.post(f"{self.base_url}/wallet/token", data=form)

    def nonce(self) -> str:
        return str(httpx.post(f"{self.base_url}/wallet/nonce").json()["c_nonce"])

    def proof(
        self, nonce: str, *, audience: str | None = None, typ: str = "openid4vci-proof+jwt"
    ) -> str:
        header = {"alg": "ES256", "typ": typ, "jwk": self.key.as_dict(private=False)}
        claims = {"aud": audience or self.base_url, "iat": int(time.time()), "nonce": nonce}
        return jws.serialize_compact(header, json.dumps(claims).encode(), self.key)

    def credential(self, access_token: str, proof: str) -> httpx.Response:
        return httpx.post(
            f"{self.base_url}/wallet/credential",
            json={"credential_configuration_id": CONFIGURATION, "proofs": {"jwt": [proof]}},
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def receive(self, offer: dict[str, Any]) -> str:
        """The whole flow, honestly: the SD-JWT VC."""
        token = self.token(offer_code(offer["offer_uri"]), offer["tx_code"])
        assert token.status_code == 200, token.text
        answer = self.credential(token.json()["access_token"], self.proof(self.nonce()))
        assert answer.status_code == 200, answer.text
        return str(answer.json()["credentials"][0]["credential"])

    def present(self, credential: str, claims: set[str], *, audience: str, nonce: str) -> str:
        """Keep the disclosures of `claims` (top level) and bind them to the verifier."""
        issuer_jwt, *disclosures = credential.rstrip("~").split("~")
        kept = [d for d in disclosures if json.loads(unb64url(d))[1] in claims]
        return self.bind(issuer_jwt + "~" + "".join(d + "~" for d in kept), audience, nonce)

    def bind(self, presented: str, audience: str, nonce: str) -> str:
        sd_hash = b64url(hashlib.sha256(presented.encode()).digest())
        claims = {"aud": audience, "nonce": nonce, "iat": int(time.time()), "sd_hash": sd_hash}
        header = {"alg": "ES256", "typ": "kb+jwt"}
        return presented + jws.serialize_compact(header, json.dumps(claims).encode(), self.key)


def disclosure(salt: str, name: str, value: Any) -> str:
    return b64url(json.dumps([salt, name, value]).encode())
