const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture, time } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const { Reason, deployRegistryFixture, hash, revokedLeaves } = require("./fixtures");

describe("CertificateRegistry", function () {
  describe("deployment", function () {
    it("grants DEFAULT_ADMIN_ROLE to the constructor's admin only", async function () {
      const { registry, admin, issuer } = await loadFixture(deployRegistryFixture);
      const DEFAULT_ADMIN_ROLE = await registry.DEFAULT_ADMIN_ROLE();
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, issuer.address)).to.equal(false);
    });

    it("defines the role ids as keccak256 of their names", async function () {
      const { ISSUER_ROLE, REVOKER_ROLE } = await loadFixture(deployRegistryFixture);
      expect(ISSUER_ROLE).to.equal(ethers.id("ISSUER_ROLE"));
      expect(REVOKER_ROLE).to.equal(ethers.id("REVOKER_ROLE"));
    });

    it("refuses the zero address as admin", async function () {
      const factory = await ethers.getContractFactory("CertificateRegistry");
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "RegistryZeroAdmin",
      );
    });
  });

  describe("roles", function () {
    it("lets only the admin grant roles", async function () {
      const { registry, outsider, ISSUER_ROLE } = await loadFixture(deployRegistryFixture);
      await expect(registry.connect(outsider).grantRole(ISSUER_ROLE, outsider.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await registry.DEFAULT_ADMIN_ROLE());
    });

    it("stops an issuer whose role was revoked from anchoring", async function () {
      const { registry, admin, issuer, ISSUER_ROLE } = await loadFixture(deployRegistryFixture);
      await registry.connect(admin).revokeRole(ISSUER_ROLE, issuer.address);
      await expect(registry.connect(issuer).anchorBatch(hash("root")))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(issuer.address, ISSUER_ROLE);
    });
  });

  describe("anchorBatch", function () {
    it("records block time, block number and issuer, and emits RootAnchored", async function () {
      const { registry, issuer } = await loadFixture(deployRegistryFixture);
      const root = hash("root");
      const tx = await registry.connect(issuer).anchorBatch(root);
      const receipt = await tx.wait();
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      await expect(tx).to.emit(registry, "RootAnchored").withArgs(root);
      const [anchoredAt, blockNumber, by] = await registry.anchorOf(root);
      expect(anchoredAt).to.equal(block.timestamp);
      expect(blockNumber).to.equal(receipt.blockNumber);
      expect(by).to.equal(issuer.address);
    });

    it("answers zeros for a root that was never anchored", async function () {
      const { registry } = await loadFixture(deployRegistryFixture);
      expect(await registry.anchorOf(hash("unknown"))).to.deep.equal([0n, 0n, ethers.ZeroAddress]);
    });

    it("reverts RegistryZeroRoot for the zero root", async function () {
      const { registry, issuer } = await loadFixture(deployRegistryFixture);
      await expect(
        registry.connect(issuer).anchorBatch(ethers.ZeroHash),
      ).to.be.revertedWithCustomError(registry, "RegistryZeroRoot");
    });

    it("reverts RegistryRootAlreadyAnchored on a second anchor and keeps the first", async function () {
      const { registry, issuer } = await loadFixture(deployRegistryFixture);
      const root = hash("root");
      await registry.connect(issuer).anchorBatch(root);
      const first = await registry.anchorOf(root);
      await time.increase(60);
      await expect(registry.connect(issuer).anchorBatch(root))
        .to.be.revertedWithCustomError(registry, "RegistryRootAlreadyAnchored")
        .withArgs(root);
      expect(await registry.anchorOf(root)).to.deep.equal(first);
    });

    for (const who of ["admin", "revoker", "outsider"]) {
      it(`rejects an anchor from the ${who} (no ISSUER_ROLE)`, async function () {
        const fixture = await loadFixture(deployRegistryFixture);
        const { registry, ISSUER_ROLE } = fixture;
        const signer = fixture[who];
        await expect(registry.connect(signer).anchorBatch(hash("root")))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, ISSUER_ROLE);
      });
    }
  });

  describe("revoke", function () {
    it("records time, reason and revoker, and emits LeafRevoked", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      const tx = await registry.connect(revoker).revoke(leaf, Reason.Fraud);
      const receipt = await tx.wait();
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      expect(revokedLeaves(registry, receipt)).to.deep.equal([leaf]);
      expect(await registry.revocationOf(leaf)).to.deep.equal([
        BigInt(block.timestamp),
        BigInt(Reason.Fraud),
        revoker.address,
      ]);
    });

    it("answers zeros for a leaf that was never revoked", async function () {
      const { registry } = await loadFixture(deployRegistryFixture);
      expect(await registry.revocationOf(hash("leaf"))).to.deep.equal([0n, 0n, ethers.ZeroAddress]);
    });

    it("accepts every reason except Unspecified", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      for (const [name, value] of Object.entries(Reason)) {
        if (value === Reason.Unspecified) continue;
        const receipt = await (await registry.connect(revoker).revoke(hash(name), value)).wait();
        expect(revokedLeaves(registry, receipt)).to.deep.equal([hash(name)]);
        expect((await registry.revocationOf(hash(name)))[1]).to.equal(value);
      }
    });

    it("reverts RegistryInvalidReason for Unspecified", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      await expect(
        registry.connect(revoker).revoke(hash("leaf"), Reason.Unspecified),
      ).to.be.revertedWithCustomError(registry, "RegistryInvalidReason");
    });

    it("reverts for a reason outside the enum, in a single and in a batch revocation", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      await expect(registry.connect(revoker).revoke(hash("leaf"), 6)).to.be.reverted;
      for (const reason of [6, 255]) {
        await expect(
          registry.connect(revoker).revokeBatch([hash("leaf")], [reason]),
        ).to.be.revertedWithCustomError(registry, "RegistryInvalidReason");
      }
      expect((await registry.revocationOf(hash("leaf")))[0]).to.equal(0n);
    });

    it("lets an indexer find a leaf's revocation by filtering on the leaf alone", async function () {
      const { registry, issuer, revoker } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      // A batch of one has its leaf as root: anchoring it must not look like its revocation.
      await registry.connect(issuer).anchorBatch(leaf);
      await registry.connect(revoker).revokeBatch([hash("other"), leaf], [Reason.Fraud, Reason.Fraud]);
      const logs = await ethers.provider.getLogs({
        address: await registry.getAddress(),
        topics: [leaf],
        fromBlock: 0,
      });
      expect(logs.map((log) => [log.topics, log.data])).to.deep.equal([[[leaf], "0x"]]);
    });

    it("reverts RegistryZeroLeaf for the zero leaf", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      await expect(
        registry.connect(revoker).revoke(ethers.ZeroHash, Reason.Fraud),
      ).to.be.revertedWithCustomError(registry, "RegistryZeroLeaf");
    });

    it("reverts RegistryLeafAlreadyRevoked on a second revocation and keeps the first", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      await registry.connect(revoker).revoke(leaf, Reason.HolderRequest);
      await expect(registry.connect(revoker).revoke(leaf, Reason.Fraud))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(leaf);
      expect((await registry.revocationOf(leaf))[1]).to.equal(Reason.HolderRequest);
    });

    for (const who of ["admin", "issuer", "outsider"]) {
      it(`rejects a revocation from the ${who} (no REVOKER_ROLE)`, async function () {
        const fixture = await loadFixture(deployRegistryFixture);
        const { registry, REVOKER_ROLE } = fixture;
        const signer = fixture[who];
        await expect(registry.connect(signer).revoke(hash("leaf"), Reason.Fraud))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, REVOKER_ROLE);
        await expect(registry.connect(signer).revokeBatch([hash("leaf")], [Reason.Fraud]))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, REVOKER_ROLE);
      });
    }
  });

  describe("revokeBatch", function () {
    it("revokes every leaf with its own reason and emits one event each", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      const leaves = [hash("a"), hash("b"), hash("c")];
      const reasons = [Reason.HolderRequest, Reason.Superseded, Reason.RetentionExpired];
      const receipt = await (await registry.connect(revoker).revokeBatch(leaves, reasons)).wait();
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      expect(revokedLeaves(registry, receipt)).to.deep.equal(leaves);
      for (let i = 0; i < leaves.length; i++) {
        expect(await registry.revocationOf(leaves[i])).to.deep.equal([
          BigInt(block.timestamp),
          BigInt(reasons[i]),
          revoker.address,
        ]);
      }
    });

    it("reverts RegistryLengthMismatch when leaves and reasons differ in number", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      await expect(registry.connect(revoker).revokeBatch([hash("a"), hash("b")], [Reason.Fraud]))
        .to.be.revertedWithCustomError(registry, "RegistryLengthMismatch")
        .withArgs(2, 1);
    });

    it("reverts RegistryEmptyBatch for an empty batch", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      await expect(registry.connect(revoker).revokeBatch([], [])).to.be.revertedWithCustomError(
        registry,
        "RegistryEmptyBatch",
      );
    });

    it("reverts the whole batch when one leaf is already revoked", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      await registry.connect(revoker).revoke(hash("b"), Reason.Fraud);
      await expect(
        registry
          .connect(revoker)
          .revokeBatch([hash("a"), hash("b")], [Reason.Fraud, Reason.Fraud]),
      )
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(hash("b"));
      expect((await registry.revocationOf(hash("a")))[0]).to.equal(0n);
    });

    it("reverts the whole batch on a zero leaf, an Unspecified reason or a duplicate", async function () {
      const { registry, revoker } = await loadFixture(deployRegistryFixture);
      const r = registry.connect(revoker);
      await expect(
        r.revokeBatch([hash("a"), ethers.ZeroHash], [Reason.Fraud, Reason.Fraud]),
      ).to.be.revertedWithCustomError(registry, "RegistryZeroLeaf");
      await expect(
        r.revokeBatch([hash("a"), hash("b")], [Reason.Fraud, Reason.Unspecified]),
      ).to.be.revertedWithCustomError(registry, "RegistryInvalidReason");
      await expect(r.revokeBatch([hash("a"), hash("a")], [Reason.Fraud, Reason.Fraud]))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(hash("a"));
    });
  });

  describe("publishProfile", function () {
    const profileA = ethers.sha256(ethers.toUtf8Bytes('{"profile":"A"}\n'));
    const profileB = ethers.sha256(ethers.toUtf8Bytes('{"profile":"B"}\n'));

    it("answers zeros before any profile is published", async function () {
      const { registry } = await loadFixture(deployRegistryFixture);
      expect(await registry.currentProfile()).to.deep.equal([ethers.ZeroHash, 0n]);
    });

    it("records the hash with the block time and emits ProfilePublished", async function () {
      const { registry, admin } = await loadFixture(deployRegistryFixture);
      const tx = await registry.connect(admin).publishProfile(profileA);
      const receipt = await tx.wait();
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      await expect(tx)
        .to.emit(registry, "ProfilePublished")
        .withArgs(profileA, block.timestamp);
      expect(await registry.currentProfile()).to.deep.equal([profileA, BigInt(block.timestamp)]);
    });

    it("replaces the current hash and leaves each publication in the event history", async function () {
      const { registry, admin } = await loadFixture(deployRegistryFixture);
      await registry.connect(admin).publishProfile(profileA);
      await time.increase(60);
      await registry.connect(admin).publishProfile(profileB);
      await registry.connect(admin).publishProfile(profileA); // back to an earlier profile
      expect((await registry.currentProfile())[0]).to.equal(profileA);
      const history = await registry.queryFilter(registry.filters.ProfilePublished(), 0);
      expect(history.map((e) => e.args.profileHash)).to.deep.equal([profileA, profileB, profileA]);
      const published = await registry.queryFilter(registry.filters.ProfilePublished(profileB), 0);
      expect(published).to.have.length(1);
    });

    it("reverts RegistryZeroProfile for the zero hash", async function () {
      const { registry, admin } = await loadFixture(deployRegistryFixture);
      await expect(
        registry.connect(admin).publishProfile(ethers.ZeroHash),
      ).to.be.revertedWithCustomError(registry, "RegistryZeroProfile");
    });

    it("reverts RegistryProfileUnchanged for the current hash and keeps its time", async function () {
      const { registry, admin } = await loadFixture(deployRegistryFixture);
      await registry.connect(admin).publishProfile(profileA);
      const first = await registry.currentProfile();
      await time.increase(60);
      await expect(registry.connect(admin).publishProfile(profileA))
        .to.be.revertedWithCustomError(registry, "RegistryProfileUnchanged")
        .withArgs(profileA);
      expect(await registry.currentProfile()).to.deep.equal(first);
    });

    for (const who of ["issuer", "revoker", "outsider"]) {
      it(`rejects a publication from the ${who} (no DEFAULT_ADMIN_ROLE)`, async function () {
        const fixture = await loadFixture(deployRegistryFixture);
        const { registry } = fixture;
        const signer = fixture[who];
        await expect(registry.connect(signer).publishProfile(profileA))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(signer.address, await registry.DEFAULT_ADMIN_ROLE());
        expect((await registry.currentProfile())[0]).to.equal(ethers.ZeroHash);
      });
    }
  });

  describe("checkCertificate", function () {
    async function anchoredPairFixture() {
      const fixture = await deployRegistryFixture();
      const [a, b] = [hash("leaf-a"), hash("leaf-b")];
      const [lo, hi] = BigInt(a) < BigInt(b) ? [a, b] : [b, a];
      const root = ethers.keccak256(ethers.concat([lo, hi]));
      const tx = await fixture.registry.connect(fixture.issuer).anchorBatch(root);
      const receipt = await tx.wait();
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      return { ...fixture, a, b, root, block };
    }

    it("returns the computed root with its anchoring for a valid proof", async function () {
      const { registry, issuer, a, b, root, block } = await loadFixture(anchoredPairFixture);
      const status = await registry.checkCertificate(a, [b]);
      expect(status.root).to.equal(root);
      expect(status.anchoredAt).to.equal(block.timestamp);
      expect(status.anchorBlock).to.equal(block.number);
      expect(status.anchoredBy).to.equal(issuer.address);
      expect(status.revokedAt).to.equal(0n);
      expect(status.revocationReason).to.equal(Reason.Unspecified);
      expect(status.revokedBy).to.equal(ethers.ZeroAddress);
      expect(status.suspendedAt).to.equal(0n);
    });

    it("reports anchoredAt 0 when the computed root is not anchored", async function () {
      const { registry, a } = await loadFixture(anchoredPairFixture);
      const status = await registry.checkCertificate(a, [hash("stranger")]);
      expect(status.anchoredAt).to.equal(0n);
      expect(status.anchoredBy).to.equal(ethers.ZeroAddress);
    });

    it("reports the revocation of a leaf whose root is anchored", async function () {
      const { registry, revoker, a, b } = await loadFixture(anchoredPairFixture);
      await registry.connect(revoker).revoke(b, Reason.IssuerError);
      const status = await registry.checkCertificate(b, [a]);
      expect(status.anchoredAt).to.be.greaterThan(0n);
      expect(status.revokedAt).to.be.greaterThan(0n);
      expect(status.revocationReason).to.equal(Reason.IssuerError);
      expect(status.revokedBy).to.equal(revoker.address);
    });

    it("treats a leaf with an empty proof as its own root", async function () {
      const { registry, issuer } = await loadFixture(deployRegistryFixture);
      const leaf = hash("single");
      await registry.connect(issuer).anchorBatch(leaf);
      const status = await registry.checkCertificate(leaf, []);
      expect(status.root).to.equal(leaf);
      expect(status.anchoredAt).to.be.greaterThan(0n);
    });
  });
});
