// The status list's hash on chain: published by the issuer at each status change.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { deployRegistryFixture, hash } = require("./fixtures");

describe("CertificateRegistry status list", function () {
  const listA = hash("status-list/a");
  const listB = hash("status-list/b");

  it("answers zeros before any status list is published", async function () {
    const { registry } = await loadFixture(deployRegistryFixture);
    expect(await registry.currentStatusList()).to.deep.equal([ethers.ZeroHash, 0n]);
  });

  it("records the hash with the block time and emits StatusListPublished", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    const tx = await registry.connect(issuer).publishStatusList(listA);
    const receipt = await tx.wait();
    const block = await ethers.provider.getBlock(receipt.blockNumber);
    await expect(tx)
      .to.emit(registry, "StatusListPublished")
      .withArgs(listA, BigInt(block.timestamp));
    expect(await registry.currentStatusList()).to.deep.equal([listA, BigInt(block.timestamp)]);
  });

  it("replaces the current hash and leaves each publication in the event history", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    await registry.connect(issuer).publishStatusList(listA);
    await time.increase(60);
    await registry.connect(issuer).publishStatusList(listB);
    expect((await registry.currentStatusList())[0]).to.equal(listB);
    const events = await registry.queryFilter(registry.filters.StatusListPublished());
    expect(events.map((e) => e.args.listHash)).to.deep.equal([listA, listB]);
  });

  it("keeps the status list apart from the profile", async function () {
    const { registry, admin, issuer } = await loadFixture(deployRegistryFixture);
    await registry.connect(admin).publishProfile(listA);
    await registry.connect(issuer).publishStatusList(listB);
    expect((await registry.currentProfile())[0]).to.equal(listA);
    expect((await registry.currentStatusList())[0]).to.equal(listB);
  });

  it("reverts RegistryZeroStatusList for the zero hash", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    await expect(
      registry.connect(issuer).publishStatusList(ethers.ZeroHash),
    ).to.be.revertedWithCustomError(registry, "RegistryZeroStatusList");
  });

  it("reverts RegistryStatusListUnchanged for the current hash and keeps its time", async function () {
    const { registry, issuer } = await loadFixture(deployRegistryFixture);
    await registry.connect(issuer).publishStatusList(listA);
    const first = await registry.currentStatusList();
    await time.increase(60);
    await expect(registry.connect(issuer).publishStatusList(listA))
      .to.be.revertedWithCustomError(registry, "RegistryStatusListUnchanged")
      .withArgs(listA);
    expect(await registry.currentStatusList()).to.deep.equal(first);
  });

  for (const who of ["admin", "revoker", "suspender", "outsider"]) {
    it(`rejects a publication from the ${who} (no ISSUER_ROLE)`, async function () {
      const fixture = await loadFixture(deployRegistryFixture);
      const { registry, ISSUER_ROLE } = fixture;
      const signer = fixture[who];
      await expect(registry.connect(signer).publishStatusList(listA))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(signer.address, ISSUER_ROLE);
      expect((await registry.currentStatusList())[0]).to.equal(ethers.ZeroHash);
    });
  }
});
