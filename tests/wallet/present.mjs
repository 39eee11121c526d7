// The npm wallet's presentation step on its own: @sd-jwt/sd-jwt-vc presents the chosen claims
// of a credential it holds, bound to the nonce and audience a verifier's page showed. Reads
// {credential, holder_private_jwk, audience, nonce, claims} as JSON on stdin (the holder's key
// stays out of the command line); prints the presentation.
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { readFileSync } from "node:fs";

import { digest, generateSalt } from "@sd-jwt/crypto-nodejs";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";

const input = JSON.parse(readFileSync(0, "utf8"));
const key = createPrivateKey({ key: input.holder_private_jwk, format: "jwk" });
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  saltGenerator: generateSalt,
  kbSignAlg: "ES256",
  kbSigner: async (data) =>
    Buffer.from(nodeSign("sha256", Buffer.from(data), { key, dsaEncoding: "ieee-p1363" })).toString("base64url"),
});
const frame = Object.fromEntries(input.claims.map((claim) => [claim, true]));
const presentation = await sdjwt.present(input.credential, frame, {
  kb: { payload: { aud: input.audience, nonce: input.nonce, iat: Math.floor(Date.now() / 1000) } },
});
process.stdout.write(presentation);
