// A wallet written with other people's code: @openid4vc/openid4vci (the OpenID4VCI client) and
// @sd-jwt/sd-jwt-vc (SD-JWT VC verify and present). It takes a credential offer from a running
// Sceau, verifies what it receives on its own (signature, x5c chain to the trust root it is
// given, disclosures, status when present), then presents only the claims asked for to Sceau's
// verifier. Prints one JSON object on stdout.
//
// node wallet.mjs <offer-uri> <tx-code|-> <trust-root.pem> <claim,claim,...> [audience-override]
import { createHash, generateKeyPairSync, randomBytes, sign as nodeSign, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

import { clientAuthenticationAnonymous, setGlobalConfig } from "@openid4vc/oauth2";
import { Openid4vciClient } from "@openid4vc/openid4vci";
import { digest, generateSalt } from "@sd-jwt/crypto-nodejs";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";

const [offerUri, txArg, rootPath, claimList, audienceOverride] = process.argv.slice(2);
setGlobalConfig({ allowInsecureUrls: true }); // the test server is http://127.0.0.1

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const holderJwk = publicKey.export({ format: "jwk" });

function signCompact(header, payload, key = privateKey) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = nodeSign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return `${input}.${b64url(signature)}`;
}

const client = new Openid4vciClient({
  callbacks: {
    hash: (data, alg) => createHash(alg.replace("-", "")).update(data).digest(),
    generateRandom: (n) => randomBytes(n),
    signJwt: async (signer, { header, payload }) => ({
      jwt: signCompact(header, payload),
      signerJwk: holderJwk,
    }),
    clientAuthentication: clientAuthenticationAnonymous(),
  },
});

function chainToRoot(x5c, rootPem) {
  // The wallet's own path check: each certificate issued by the next, the last by the root.
  const certs = x5c.map((c) => new X509Certificate(Buffer.from(c, "base64")));
  const root = new X509Certificate(readFileSync(rootPem));
  const path = [...certs, root];
  const now = new Date();
  for (let i = 0; i < path.length - 1; i++) {
    const [child, parent] = [path[i], path[i + 1]];
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new Error(`x5c[${i}] is not issued by the next certificate`);
    }
    if (new Date(child.validFrom) > now || new Date(child.validTo) < now) {
      throw new Error(`x5c[${i}] is not valid now`);
    }
  }
  return certs[0];
}

function jwtParts(jwt) {
  const [h, p] = jwt.split(".");
  return { header: JSON.parse(Buffer.from(h, "base64url")), payload: JSON.parse(Buffer.from(p, "base64url")) };
}

function x5cVerifier(rootPem) {
  // Verifies a JWS (credential or status list) with the x5c leaf, once its chain holds.
  return async (data, signatureB64url) => {
    const { header } = jwtParts(`${data}.x`);
    const leaf = chainToRoot(header.x5c, rootPem);
    const { verify } = await import("node:crypto");
    return verify("sha256", Buffer.from(data), { key: leaf.publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(signatureB64url, "base64url"));
  };
}

const out = {};
try {
  const offer = await client.resolveCredentialOffer(offerUri);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const configurationId = offer.credential_configuration_ids[0];
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    txCode: txArg === "-" ? undefined : txArg,
  });
  out.token_type = accessTokenResponse.token_type;
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt: proof } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    nonce: c_nonce,
    signer: { method: "jwk", alg: "ES256", publicJwk: holderJwk },
  });
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configurationId,
    proofs: { jwt: [proof] },
  });
  const credential = response.credentialResponse.credentials[0].credential;
  out.credential = credential;

  const verifier = x5cVerifier(rootPath);
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    saltGenerator: generateSalt,
    verifier,
    statusVerifier: verifier,
    kbSignAlg: "ES256",
    kbSigner: async (data) => b64url(nodeSign("sha256", Buffer.from(data), { key: privateKey, dsaEncoding: "ieee-p1363" })),
    statusListFetcher: async (uri) => (await fetch(uri)).text(),
    statusValidator: async (status) => {
      if (status !== 0) throw new Error(`status ${status}`);
    },
  });
  const verified = await sdjwt.verify(credential);
  out.verified_claims = verified.payload;
  out.status_checked = Boolean(verified.payload.status);
  if (verified.payload.status) {
    const list = await (await fetch(verified.payload.status.status_list.uri)).text();
    out.status = getListFromStatusListJWT(list).getStatus(verified.payload.status.status_list.idx);
  }

  const base = offer.credential_issuer;
  const binding = await (await fetch(`${base}/api/v1/presentations/nonce`)).json();
  const frame = Object.fromEntries(claimList.split(",").map((c) => [c, true]));
  const presentation = await sdjwt.present(credential, frame, {
    kb: { payload: { aud: audienceOverride || binding.audience, nonce: binding.nonce, iat: Math.floor(Date.now() / 1000) } },
  });
  out.presentation = presentation;
  out.holder_private_jwk = privateKey.export({ format: "jwk" });
  const answer = await fetch(`${base}/api/v1/presentations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ presentation }),
  });
  out.report = await answer.json();
} catch (error) {
  out.error = String(error?.message ?? error);
  out.error_body = error?.response ? await error.response.clone?.().text?.().catch(() => null) : null;
}
process.stdout.write(JSON.stringify(out));
