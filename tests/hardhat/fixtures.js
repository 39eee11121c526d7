// Shared fixture: a fresh registry with one admin, issuer, revoker, suspender and an outsider.
const { ethers } = require("hardhat");

const Reason = Object.freeze({
  Unspecified: 0,
  HolderRequest: 1,
  IssuerError: 2,
  Fraud: 3,
  Superseded: 4,
  RetentionExpired: 5,
});

const SuspensionReason = Object.freeze({
  Unspecified: 0,
  Appeal: 1,
  Inquiry: 2,
  Payment: 3,
  Other: 4,
});

async function deployRegistryFixture() {
  const [admin, issuer, revoker, outsider, suspender] = await ethers.getSigners();
  const registry = await ethers.deployContract("CertificateRegistry", [admin.address]);
  await registry.waitForDeployment();
  const ISSUER_ROLE = await registry.ISSUER_ROLE();
  const REVOKER_ROLE = await registry.REVOKER_ROLE();
  const SUSPENDER_ROLE = await registry.SUSPENDER_ROLE();
  await registry.connect(admin).grantRole(ISSUER_ROLE, issuer.address);
  await registry.connect(admin).grantRole(REVOKER_ROLE, revoker.address);
  await registry.connect(admin).grantRole(SUSPENDER_ROLE, suspender.address);
  return {
    registry,
    admin,
    issuer,
    revoker,
    suspender,
    outsider,
    ISSUER_ROLE,
    REVOKER_ROLE,
    SUSPENDER_ROLE,
  };
}

/** A deterministic, non-zero bytes32 for tests. */
function hash(label) {
  return ethers.id(`sceau-test/${label}`);
}

/** OpenZeppelin's commutative pair hash: keccak256 of the two nodes, smaller first. */
function nodeOf(a, b) {
  return BigInt(a) <= BigInt(b)
    ? ethers.keccak256(ethers.concat([a, b]))
    : ethers.keccak256(ethers.concat([b, a]));
}

/** The Merkle root of `leaves` (sorted; an odd node goes up unpaired), as contracts/merkle.py. */
function rootOf(leaves) {
  let level = [...leaves].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeOf(level[i], level[i + 1]));
    if (level.length % 2) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

/** The root a proof leads to from `leaf` (what MerkleProof.processProof computes). */
function processProof(leaf, proof) {
  return proof.reduce((acc, sibling) => nodeOf(acc, sibling), leaf);
}

/**
 * The leaves revoked in a transaction, in order: its anonymous LeafRevoked logs (one topic, the
 * leaf, and no data). Matchers that look for an event's signature topic cannot see them.
 */
function revokedLeaves(registry, receipt) {
  const address = registry.target.toLowerCase();
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === address)
    .filter((log) => log.topics.length === 1 && log.data === "0x")
    .map((log) => log.topics[0]);
}

module.exports = {
  Reason,
  SuspensionReason,
  deployRegistryFixture,
  hash,
  processProof,
  revokedLeaves,
  rootOf,
};
