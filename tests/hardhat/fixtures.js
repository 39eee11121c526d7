// Shared fixture: a fresh registry with one admin, issuer, revoker and an outsider.
const { ethers } = require("hardhat");

const Reason = Object.freeze({
  Unspecified: 0,
  HolderRequest: 1,
  IssuerError: 2,
  Fraud: 3,
  Superseded: 4,
  RetentionExpired: 5,
});

async function deployRegistryFixture() {
  const [admin, issuer, revoker, outsider] = await ethers.getSigners();
  const registry = await ethers.deployContract("CertificateRegistry", [admin.address]);
  await registry.waitForDeployment();
  const ISSUER_ROLE = await registry.ISSUER_ROLE();
  const REVOKER_ROLE = await registry.REVOKER_ROLE();
  await registry.connect(admin).grantRole(ISSUER_ROLE, issuer.address);
  await registry.connect(admin).grantRole(REVOKER_ROLE, revoker.address);
  return { registry, admin, issuer, revoker, outsider, ISSUER_ROLE, REVOKER_ROLE };
}

/** A deterministic, non-zero bytes32 for tests. */
function hash(label) {
  return ethers.id(`sceau-test/${label}`);
}

module.exports = { Reason, deployRegistryFixture, hash };
