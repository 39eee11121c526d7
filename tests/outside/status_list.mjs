// Reads Sceau's Token Status List as a wallet or verifier would, with someone else's code:
// @sd-jwt/jwt-status-list (the OpenWallet Foundation's implementation of
// draft-ietf-oauth-status-list) decodes the list; node's own crypto checks the signature
// against the first x5c certificate and that certificate against the given trust root.
//
//   node tests/outside/status_list.mjs URL ROOT_PEM INDEX...
//
// Prints one JSON object: the statuses at the indices, the token's SHA-256 and its claims.
// Exits 1, with the reason on stderr, if the list cannot be trusted.
import { createHash, createPublicKey, verify, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";

const [url, rootPath, ...indices] = process.argv.slice(2);

function fail(reason) {
  process.stderr.write(`${reason}\n`);
  process.exit(1);
}

const part = (text) => JSON.parse(Buffer.from(text, "base64url").toString("utf8"));

const response = await fetch(url);
if (response.status !== 200) fail(`GET ${url} answered ${response.status}`);
const mediaType = response.headers.get("content-type") || "";
if (!mediaType.startsWith("application/statuslist+jwt")) fail(`media type ${mediaType}`);
const token = (await response.text()).trim();

const [headerPart, payloadPart, signaturePart] = token.split(".");
const header = part(headerPart);
const claims = part(payloadPart);
if (header.typ !== "statuslist+jwt") fail(`typ ${header.typ}`);
if (header.alg !== "ES256") fail(`alg ${header.alg}`);
if (!Array.isArray(header.x5c) || header.x5c.length === 0) fail("no x5c chain");

// The chain: each certificate signed by the next, the last one by the trust root.
const chain = header.x5c.map((der) => new X509Certificate(Buffer.from(der, "base64")));
const root = new X509Certificate(readFileSync(rootPath));
for (let i = 0; i < chain.length; i += 1) {
  const signer = i + 1 < chain.length ? chain[i + 1] : root;
  if (!chain[i].verify(signer.publicKey)) fail(`x5c[${i}] is not signed by its issuer`);
}
const now = Date.now();
if (now < Date.parse(chain[0].validFrom) || now > Date.parse(chain[0].validTo)) {
  fail("the signing certificate is not valid now");
}

// JWS ES256: the signature is r || s over "header.payload" (IEEE P1363, not DER).
const signed = verify(
  "sha256",
  Buffer.from(`${headerPart}.${payloadPart}`),
  { key: createPublicKey(chain[0].publicKey.export({ type: "spki", format: "pem" })), dsaEncoding: "ieee-p1363" },
  Buffer.from(signaturePart, "base64url"),
);
if (!signed) fail("the signature does not verify under x5c[0]");
if (claims.sub !== url) fail(`sub ${claims.sub} is not the list's URL ${url}`);
if (typeof claims.exp === "number" && claims.exp * 1000 < now) fail("the list has expired");

const list = getListFromStatusListJWT(token);
if (list.getBitsPerStatus() !== 2) fail(`bits ${list.getBitsPerStatus()}`);
const statuses = Object.fromEntries(indices.map((i) => [i, list.getStatus(Number(i))]));

process.stdout.write(
  `${JSON.stringify({
    statuses,
    size: list.statusList.length,
    sha256: createHash("sha256").update(token, "utf8").digest("hex"),
    claims: { sub: claims.sub, iat: claims.iat, exp: claims.exp, ttl: claims.ttl },
    cache_control: response.headers.get("cache-control"),
    etag: response.headers.get("etag"),
  })}\n`,
);
