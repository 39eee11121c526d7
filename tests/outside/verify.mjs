#!/usr/bin/env node
// An outside verifier of Sceau certificates, written from docs/receipt.md and docs/profile.md
// alone (see README.md here). Usage:
//   node tests/outside/verify.mjs --pdf F --receipt R --profile P --rpc URL
// Prints one JSON report on stdout; exits 0 VALID, 10 INVALID, 11 REVOKED, 12 ERROR,
// 13 SUSPENDED, 2 for a usage error.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { FormError, parseProfile, parseReceipt } from "./lib/documents.mjs";
import { Node } from "./lib/chain.mjs";
import { REQUIRED, anchoringAndRevocation, inclusion, integrity, issuerIdentity, result, signature } from "./lib/checks.mjs";
import { isoOf } from "./lib/forms.mjs";

const EXIT = Object.freeze({ VALID: 0, INVALID: 10, REVOKED: 11, ERROR: 12, SUSPENDED: 13 });

function usage(message) {
  process.stderr.write(`${message}\nusage: node verify.mjs --pdf F --receipt R --profile P --rpc URL\n`);
  process.exit(2);
}

function options() {
  try {
    const { values } = parseArgs({
      options: { pdf: { type: "string" }, receipt: { type: "string" }, profile: { type: "string" }, rpc: { type: "string" } },
      strict: true,
    });
    for (const name of ["pdf", "receipt", "profile", "rpc"]) if (!values[name]) usage(`--${name} is required`);
    return values;
  } catch (error) {
    return usage(error.message);
  }
}

/** Docs section 4.1: INVALID > REVOKED > SUSPENDED > ERROR > VALID; never VALID on a missing check. */
function verdictOf(checks) {
  const byName = new Map(checks.map((c) => [c.name, c]));
  const invalid = checks.find((c) => c.status === "invalid" && c.name !== "revocation");
  if (invalid) return ["INVALID", invalid.code];
  const status = byName.get("revocation");
  if (status?.status === "invalid") return status.code === "suspended" ? ["SUSPENDED", "suspended"] : ["REVOKED", "revoked"];
  const undecided = REQUIRED.map((name) => byName.get(name) ?? result(name, "skipped", "missing", "did not run")).find((c) => c.status !== "valid");
  // The code shown: a check that ran and could not decide, before one that did not run.
  if (undecided) return ["ERROR", (checks.find((c) => c.status === "error") ?? undecided).code];
  return ["VALID", null];
}

function report(checks, receipt) {
  const [verdict, code] = verdictOf(checks);
  const status = checks.find((c) => c.name === "revocation" && c.status === "invalid");
  const revocation = status?.code === "revoked" ? status : null;
  const suspension = status?.code === "suspended" ? status : null;
  return {
    verdict,
    code,
    certificate_id: receipt?.certificateId ?? null,
    anchored_at: receipt ? isoOf(receipt.anchoredAt) : null,
    revoked_at: revocation?.details.revoked_at ?? null,
    revocation_reason: revocation?.details.reason ?? null,
    suspended_at: suspension?.details.suspended_at ?? null,
    suspension_reason: suspension?.details.reason ?? null,
    checks,
  };
}

function readAll(paths) {
  const read = {};
  for (const [name, path] of Object.entries(paths)) {
    try {
      read[name] = readFileSync(path);
    } catch (error) {
      return { failure: result("integrity", "error", "file_unreadable", `${name}: ${error.code ?? error.message}`) };
    }
  }
  return read;
}

// docs/receipt.md section 4 step 1: the input results are held by integrity (file, receipt)
// and issuer_identity (profile); when one is reported, no other check runs.
async function verify(args) {
  const inputs = readAll({ pdf: args.pdf, receipt: args.receipt, profile: args.profile });
  if (inputs.failure) return report([inputs.failure], null);
  let receipt;
  try {
    receipt = parseReceipt(inputs.receipt);
  } catch (error) {
    if (!(error instanceof FormError)) throw error;
    return report([result("integrity", "invalid", "receipt_malformed", error.message)], null);
  }
  let profile;
  try {
    profile = parseProfile(inputs.profile);
  } catch (error) {
    if (!(error instanceof FormError)) throw error;
    return report([result("issuer_identity", "error", "profile_malformed", error.message)], receipt);
  }
  const node = new Node(args.rpc);
  const chain = await anchoringAndRevocation(node, receipt, profile);
  const judgedAt = chain.answer ? { seconds: chain.answer.anchoredAt, micros: 0 } : receipt.anchoredAt;
  const signed = signature(inputs.pdf, profile, judgedAt, chain.answer === null);
  const identity = await issuerIdentity(node, receipt, profile, chain.answer, signed.signerDer, inputs.profile);
  return report([integrity(inputs.pdf, receipt), inclusion(receipt), chain.anchoring, chain.revocation, signed.check, identity], receipt);
}

const outcome = await verify(options());
process.stdout.write(JSON.stringify(outcome, null, 2) + "\n");
process.exitCode = EXIT[outcome.verdict];
