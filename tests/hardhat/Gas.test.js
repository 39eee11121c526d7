// Gas of the writing calls, read from receipts (no gas-reporter network calls), printed beside
// our goals and OpenAttestation's DocumentStore 3.0.0 measured on the same EVM (issue 14).
// Gas is deterministic, so each test also asserts its goal.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const {
  Reason,
  SuspensionReason,
  deployRegistryFixture,
  hash,
  rootOf,
} = require("./fixtures");

// OpenAttestation DocumentStore 3.0.0: issue(root), revoke(document), bulkRevoke(100 documents).
const OPEN_ATTESTATION = Object.freeze({ anchor: 47_874, revoke: 47_980, revokePerLeaf: 24_465 });
const GOAL = Object.freeze({
  anchor: 47_500,
  revoke: 47_900,
  revokePerLeaf: 24_000,
  perCertificate: 50,
});

const rows = [];

/** One line of the table: Sceau's figure, its goal (if any) and OpenAttestation's (if any). */
function report(call, sceau, goal = null, openAttestation = null) {
  rows.push({
    call,
    sceau: Number(sceau),
    goal: goal ?? "-",
    openAttestation: openAttestation ?? "-",
    met: goal === null ? "-" : Number(sceau) <= goal ? "yes" : "NO",
  });
}

async function gasOf(txPromise) {
  const receipt = await (await txPromise).wait();
  return receipt.gasUsed;
}

function leaves(prefix, n) {
  return Array.from({ length: n }, (_, i) => hash(`${prefix}/${i}`));
}

describe("Gas", function () {
  after(function () {
    console.log(
      "\n    Gas used (from receipts), beside the goals and OpenAttestation DocumentStore 3.0.0",
    );
    console.table(rows);
  });

  it("anchors a batch's root within the goal", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    const gas = await gasOf(registry.connect(issuer).anchorBatch(hash("root")));
    report("anchorBatch(root)", gas, GOAL.anchor, OPEN_ATTESTATION.anchor);
    expect(gas).to.be.at.most(BigInt(GOAL.anchor));
  });

  it("anchors 1,000 certificates (one root) within the goal per certificate", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    const n = 1000;
    const gas = await gasOf(registry.connect(issuer).anchorBatch(rootOf(leaves("cert", n))));
    const perCertificate = Number(gas) / n;
    report(
      "anchorBatch: per certificate of 1,000",
      Number(perCertificate.toFixed(1)),
      GOAL.perCertificate,
      Number((OPEN_ATTESTATION.anchor / n).toFixed(1)),
    );
    expect(perCertificate).to.be.at.most(GOAL.perCertificate);
  });

  it("revokes one leaf within the goal", async function () {
    const { registry, revoker } = await loadFixture(deployRegistryFixture);
    const gas = await gasOf(registry.connect(revoker).revoke(hash("leaf"), Reason.Fraud));
    report("revoke(leaf, reason)", gas, GOAL.revoke, OPEN_ATTESTATION.revoke);
    expect(gas).to.be.at.most(BigInt(GOAL.revoke));
  });

  for (const n of [10, 100]) {
    it(`revokes a batch of ${n} leaves for less per leaf than single revocations`, async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      const batch = leaves(`batch-${n}`, n);
      const reasons = batch.map(() => Reason.HolderRequest);
      const gas = await gasOf(registry.connect(revoker).revokeBatch(batch, reasons));
      const single = await gasOf(registry.connect(revoker).revoke(hash("single"), Reason.Fraud));
      const perLeaf = Math.round(Number(gas) / n);
      if (n === 100) {
        report(
          `revokeBatch: per leaf of ${n}`,
          perLeaf,
          GOAL.revokePerLeaf,
          OPEN_ATTESTATION.revokePerLeaf,
        );
        expect(perLeaf).to.be.at.most(GOAL.revokePerLeaf);
      } else {
        report(`revokeBatch: per leaf of ${n}`, perLeaf);
      }
      expect(gas / BigInt(n)).to.be.lessThan(single);
    });
  }

  it("suspends and unsuspends one leaf", async function () {
    const { registry, suspender } = await loadFixture(deployRegistryFixture);
    const leaf = hash("suspended");
    const suspend = await gasOf(registry.connect(suspender).suspend(leaf, SuspensionReason.Appeal));
    const lift = await gasOf(registry.connect(suspender).unsuspend(leaf));
    report("suspend(leaf, reason)", suspend);
    report("unsuspend(leaf)", lift);
    expect(lift).to.be.lessThan(suspend); // clearing the slot earns a refund
  });

  it("suspends and unsuspends a batch of 100 for less per leaf than one at a time", async function () {
    const { registry, suspender } = await loadFixture(deployRegistryFixture);
    const n = 100;
    const batch = leaves("suspend-100", n);
    const reasons = batch.map(() => SuspensionReason.Inquiry);
    const suspend = await gasOf(registry.connect(suspender).suspendBatch(batch, reasons));
    const lift = await gasOf(registry.connect(suspender).unsuspendBatch(batch));
    const single = await gasOf(
      registry.connect(suspender).suspend(hash("single"), SuspensionReason.Appeal),
    );
    report(`suspendBatch: per leaf of ${n}`, Math.round(Number(suspend) / n));
    report(`unsuspendBatch: per leaf of ${n}`, Math.round(Number(lift) / n));
    expect(suspend / BigInt(n)).to.be.lessThan(single);
    expect(lift).to.be.lessThan(suspend);
  });

  it("revokes a suspended leaf for less than a valid one (the slot is already set)", async function () {
    const { registry, revoker, suspender } = await loadFixture(deployRegistryFixture);
    const leaf = hash("suspended-then-revoked");
    await registry.connect(suspender).suspend(leaf, SuspensionReason.Inquiry);
    const gas = await gasOf(registry.connect(revoker).revoke(leaf, Reason.Fraud));
    report("revoke(leaf, reason) of a suspended leaf", gas, GOAL.revoke);
    expect(gas).to.be.at.most(BigInt(GOAL.revoke));
  });

  it("publishes the status list's hash, then a new one", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    const first = await gasOf(registry.connect(issuer).publishStatusList(hash("list/1")));
    const next = await gasOf(registry.connect(issuer).publishStatusList(hash("list/2")));
    report("publishStatusList (first)", first);
    report("publishStatusList (next)", next);
    expect(next).to.be.lessThan(first);
  });

  it("publishes the issuer profile's hash, then a new one", async function () {
    const { registry, admin } = await loadFixture(deployRegistryFixture);
    const first = await gasOf(registry.connect(admin).publishProfile(hash("profile/1")));
    const next = await gasOf(registry.connect(admin).publishProfile(hash("profile/2")));
    report("publishProfile (first)", first);
    report("publishProfile (next)", next);
    expect(next).to.be.lessThan(first); // the second one overwrites slots already set
  });
});
