// Gas used by the writing calls, read from receipts (no gas-reporter network calls).
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { Reason, deployRegistryFixture, hash } = require("./fixtures");

const rows = [];

async function gasOf(txPromise) {
  const receipt = await (await txPromise).wait();
  return receipt.gasUsed;
}

function leaves(prefix, n) {
  return Array.from({ length: n }, (_, i) => hash(`${prefix}/${i}`));
}

describe("Gas", function () {
  after(function () {
    console.log("\n    Gas used (from receipts)");
    console.table(rows);
  });

  it("anchor costs less than 100k gas", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    const gas = await gasOf(registry.connect(issuer).anchor(hash("root")));
    rows.push({ call: "anchor(root)", gasUsed: Number(gas) });
    expect(gas).to.be.lessThan(100_000n);
  });

  it("revoke costs less than 100k gas", async function () {
    const { registry, revoker } = await loadFixture(deployRegistryFixture);
    const gas = await gasOf(registry.connect(revoker).revoke(hash("leaf"), Reason.Fraud));
    rows.push({ call: "revoke(leaf, reason)", gasUsed: Number(gas) });
    expect(gas).to.be.lessThan(100_000n);
  });

  for (const n of [10, 100]) {
    it(`revokeBatch of ${n} leaves costs less per leaf than single revokes`, async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      const batch = leaves(`batch-${n}`, n);
      const reasons = batch.map(() => Reason.HolderRequest);
      const gas = await gasOf(registry.connect(revoker).revokeBatch(batch, reasons));
      const single = await gasOf(registry.connect(revoker).revoke(hash("single"), Reason.Fraud));
      rows.push({
        call: `revokeBatch(${n} leaves)`,
        gasUsed: Number(gas),
        perLeaf: Math.round(Number(gas) / n),
      });
      expect(gas / BigInt(n)).to.be.lessThan(single);
    });
  }
});
