// The checks of docs/receipt.md section 4, each ending in valid | invalid | error | skipped.
import { createHash } from "node:crypto";
import { FormError, covers } from "./documents.mjs";
import { before, foldProof, isoOf, leafOf } from "./forms.mjs";
import { ChainError, ChainUnreachable, ROOT_ANCHORED } from "./chain.mjs";
import { SignatureFailure, checkSignature } from "./signature.mjs";

export const REQUIRED = Object.freeze(["integrity", "inclusion", "anchoring", "revocation", "signature", "issuer_identity"]);
export const REASONS = Object.freeze({ 1: "holder_request", 2: "issuer_error", 3: "fraud", 4: "superseded", 5: "retention_expired" });
export const SUSPENSION_REASONS = Object.freeze({ 1: "appeal", 2: "inquiry", 3: "payment", 4: "other" });

export const result = (name, status, code, message, details = {}) => Object.freeze({ name, status, code, message, details });

export function integrity(pdf, receipt) {
  const digest = createHash("sha256").update(pdf).digest("hex");
  if (digest !== receipt.pdfSha256) return result("integrity", "invalid", "pdf_hash_mismatch", "the PDF is not the one the receipt describes", { pdf_sha256: digest });
  if (leafOf(receipt.certificateId, receipt.salt, digest) !== receipt.leaf) return result("integrity", "invalid", "leaf_mismatch", "the leaf is not this PDF's");
  return result("integrity", "valid", "pdf_matches", "the PDF is the one the receipt describes");
}

export function inclusion(receipt) {
  if (foldProof(receipt.leaf, receipt.proof) !== receipt.root) return result("inclusion", "invalid", "proof_mismatch", "the proof does not lead to the root");
  return result("inclusion", "valid", "included", "the certificate is in the anchored batch");
}

/** Both the anchoring and the revocation checks come from the same chain reads. */
export async function anchoringAndRevocation(node, receipt, profile) {
  let answer;
  try {
    const chainId = await node.chainId();
    if (chainId !== profile.chainId) {
      const r = result("anchoring", "error", "wrong_chain", `the node serves chain ${chainId}, not ${profile.chainId}`);
      return { anchoring: r, revocation: result("revocation", "error", "wrong_chain", "not read: docs/receipt.md section 4 step 5"), answer: null };
    }
    if (!(await node.hasCode(profile.contract))) {
      const r = result("anchoring", "error", "no_contract", "the profile's registry is not on this node");
      return { anchoring: r, revocation: result("revocation", "error", "no_contract", "not read: docs/receipt.md section 4 step 5"), answer: null };
    }
    answer = await node.checkCertificate(profile.contract, receipt.leaf, receipt.proof);
  } catch (error) {
    const code = chainCode(error);
    return { anchoring: result("anchoring", "error", code, error.message), revocation: result("revocation", "error", code, error.message), answer: null };
  }
  const anchored = answer.anchoredAt !== 0n ? answer : null;
  return { anchoring: await anchoring(node, receipt, profile, answer), revocation: revocation(answer), answer: anchored };
}

function chainCode(error) {
  if (error instanceof ChainUnreachable) return "chain_unreachable";
  if (error instanceof ChainError) return "chain_error";
  throw error;
}

async function anchoring(node, receipt, profile, answer) {
  const fact = (status, code, message) => result("anchoring", status, code, message, { anchored_at: answer.anchoredAt.toString(), block: answer.anchorBlock.toString() });
  if (answer.anchoredAt === 0n) return result("anchoring", "invalid", "not_anchored", "the root is not anchored on the issuer's registry");
  if (answer.anchorBlock !== receipt.blockNumber) return fact("invalid", "receipt_block_mismatch", "the receipt's block_number is not the chain's");
  if (receipt.anchoredAt.micros !== 0 || receipt.anchoredAt.seconds !== answer.anchoredAt) return fact("invalid", "receipt_time_mismatch", "the receipt's anchored_at is not the chain's");
  try {
    const mismatch = await transactionMismatch(node, receipt, profile, answer);
    if (mismatch) return fact("invalid", "receipt_transaction_mismatch", `the receipt's transaction did not anchor this root: ${mismatch}`);
  } catch (error) {
    return fact("error", chainCode(error), error.message);
  }
  try {
    if (!(await node.hasIssuerRole(profile.contract, answer.anchoredBy, answer.anchorBlock))) return fact("invalid", "anchorer_not_issuer", "the anchoring account did not hold the issuer role");
  } catch (error) {
    // docs/receipt.md section 3.4: a JSON-RPC error or an answer that is not a bool.
    const code = error instanceof ChainError ? "role_history_unavailable" : chainCode(error);
    return fact("error", code, error.message);
  }
  return fact("valid", "anchored", `anchored at ${isoOf({ seconds: answer.anchoredAt, micros: 0 })} in block ${answer.anchorBlock}`);
}

/** The reason the receipt's transaction is not the anchoring one, or null when it is. */
async function transactionMismatch(node, receipt, profile, answer) {
  const tx = await node.transactionReceipt(receipt.transaction);
  if (tx === null || typeof tx !== "object") return "no such transaction";
  const same = (a, b) => typeof a === "string" && a.toLowerCase() === b.toLowerCase();
  if (tx.status !== "0x1") return `status ${tx.status}`;
  if (!isHexNumber(tx.blockNumber) || BigInt(tx.blockNumber) !== answer.anchorBlock) return `block ${tx.blockNumber}`;
  if (!same(tx.to, profile.contract)) return `sent to ${tx.to}`;
  const logged = (tx.logs ?? []).some((log) => same(log.address, profile.contract) && Array.isArray(log.topics) && same(log.topics[0], ROOT_ANCHORED) && same(log.topics[1], receipt.root));
  return logged ? null : "no RootAnchored log of this root from the registry";
}

const isHexNumber = (v) => typeof v === "string" && /^0x[0-9a-fA-F]+$/.test(v);

/** Docs section 4 step 5: revoked first (a revocation overrides a suspension), then suspended. */
function revocation(answer) {
  if (answer.revokedAt !== 0n) {
    return result("revocation", "invalid", "revoked", "the certificate was revoked", {
      revoked_at: isoOf({ seconds: answer.revokedAt, micros: 0 }),
      reason: REASONS[Number(answer.revocationReason)] ?? null,
    });
  }
  if (answer.suspendedAt !== 0n) {
    return result("revocation", "invalid", "suspended", "the certificate is suspended", {
      suspended_at: isoOf({ seconds: answer.suspendedAt, micros: 0 }),
      reason: SUSPENSION_REASONS[Number(answer.suspensionReason)] ?? null,
    });
  }
  return result("revocation", "valid", "not_revoked", "the certificate is neither revoked nor suspended");
}

/** The signature, judged at the chain's anchoring time (or the receipt's when the chain is unread). */
export function signature(pdf, profile, judgedAt, unverifiedTime) {
  const details = { judged_at: isoOf(judgedAt), ...(unverifiedTime ? { note: "receipt_anchoring_time_unverified" } : {}) };
  try {
    const { signerDer } = checkSignature(pdf, profile.trustRoots, Number(judgedAt.seconds));
    return { check: result("signature", "valid", "signature_valid", "one intact signature over the whole file, by a trusted certificate", details), signerDer };
  } catch (error) {
    if (error instanceof SignatureFailure) return { check: result("signature", error.status, error.code, error.message, details), signerDer: error.signerDer };
    return { check: result("signature", "error", "signature_unchecked", `the verifier failed: ${error.message}`, details), signerDer: null };
  }
}

/** docs/receipt.md section 4 step 7, in its order. */
export async function issuerIdentity(node, receipt, profile, anchoring, signerDer, profileBytes) {
  const check = (status, code, message) => result("issuer_identity", status, code, message);
  if (receipt.chainId !== profile.chainId) return check("invalid", "chain_not_issuer", "the receipt names another chain than the issuer's");
  if (receipt.contract !== profile.contract) return check("invalid", "contract_not_issuer", "the receipt names another registry than the issuer's");
  if (signerDer === null) return check("invalid", "no_signing_certificate", "the PDF has no readable signer certificate");
  if (anchoring === null) return check("error", "anchoring_unknown", "the anchoring could not be read");
  const at = { seconds: anchoring.anchoredAt, micros: 0 };
  const certificates = profile.signingCertificates.filter((e) => e.der.equals(signerDer));
  const keyCode = periodCode(certificates, at, "signing_certificate");
  if (keyCode) return check("invalid", keyCode, "the signer certificate is not the issuer's for the anchoring time");
  const accounts = profile.anchoringAddresses.filter((e) => e.address === anchoring.anchoredBy);
  const accountCode = periodCode(accounts, at, "anchoring_address");
  if (accountCode) return check("invalid", accountCode, "the anchoring account is not the issuer's for the anchoring time");
  return profileIsCurrent(node, profile, profileBytes, check);
}

function periodCode(entries, at, kind) {
  if (entries.some((e) => covers(e, at))) return null;
  const retired = entries.length > 0 && entries.every((e) => e.validUntil !== null && !before(at, e.validUntil));
  return retired ? `${kind}_retired` : `${kind}_not_published`;
}

async function profileIsCurrent(node, profile, profileBytes, check) {
  const digest = "0x" + createHash("sha256").update(profileBytes).digest("hex");
  let current;
  try {
    current = await node.currentProfile(profile.contract);
  } catch (error) {
    // A registry without currentProfile() reverts: nothing on chain vouches for the profile.
    if (error instanceof ChainError && error.rpcError) return check("error", "profile_not_anchored", `the registry does not answer currentProfile(): ${error.message}`);
    return check("error", chainCode(error), error.message);
  }
  if (current.profileHash === digest) return check("valid", "issuer_matches", "the issuer's published keys, chain and registry");
  if (/^0x0+$/.test(current.profileHash)) return check("error", "profile_not_anchored", "the registry has no published profile");
  return check("invalid", "profile_not_current", "this profile is not the one the registry names as current");
}

export { FormError };
