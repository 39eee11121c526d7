// Suspension: reversible, by SUSPENDER_ROLE, overridden by a revocation (which stays final).
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const {
  Reason,
  SuspensionReason,
  deployRegistryFixture,
  hash,
  revokedLeaves,
} = require("./fixtures");

const NONE = [0n, 0n, ethers.ZeroAddress];

async function blockOf(tx) {
  const receipt = await tx.wait();
  return ethers.provider.getBlock(receipt.blockNumber);
}

describe("CertificateRegistry suspension", function () {
  describe("roles", function () {
    it("defines SUSPENDER_ROLE as keccak256 of its name", async function () {
      const { SUSPENDER_ROLE } = await loadFixture(deployRegistryFixture);
      expect(SUSPENDER_ROLE).to.equal(ethers.id("SUSPENDER_ROLE"));
    });

    it("lets only the admin grant SUSPENDER_ROLE", async function () {
      const { registry, revoker, outsider, SUSPENDER_ROLE } =
        await loadFixture(deployRegistryFixture);
      await expect(registry.connect(revoker).grantRole(SUSPENDER_ROLE, outsider.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(revoker.address, await registry.DEFAULT_ADMIN_ROLE());
    });

    for (const who of ["admin", "issuer", "revoker", "outsider"]) {
      it(`rejects every suspension call from the ${who} (no SUSPENDER_ROLE)`, async function () {
        const fixture = await loadFixture(deployRegistryFixture);
        const { registry, SUSPENDER_ROLE } = fixture;
        const signer = fixture[who];
        const leaf = hash("leaf");
        const calls = [
          () => registry.connect(signer).suspend(leaf, SuspensionReason.Appeal),
          () => registry.connect(signer).suspendBatch([leaf], [SuspensionReason.Appeal]),
          () => registry.connect(signer).unsuspend(leaf),
          () => registry.connect(signer).unsuspendBatch([leaf]),
        ];
        for (const call of calls) {
          await expect(call())
            .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
            .withArgs(signer.address, SUSPENDER_ROLE);
        }
      });
    }

    it("gives the suspender neither anchoring nor revocation", async function () {
      const { registry, suspender, ISSUER_ROLE, REVOKER_ROLE } =
        await loadFixture(deployRegistryFixture);
      await expect(registry.connect(suspender).anchorBatch(hash("root")))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(suspender.address, ISSUER_ROLE);
      await expect(registry.connect(suspender).revoke(hash("leaf"), Reason.Fraud))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(suspender.address, REVOKER_ROLE);
    });

    it("stops a suspender whose role was revoked", async function () {
      const { registry, admin, suspender, SUSPENDER_ROLE } =
        await loadFixture(deployRegistryFixture);
      await registry.connect(admin).revokeRole(SUSPENDER_ROLE, suspender.address);
      await expect(registry.connect(suspender).suspend(hash("leaf"), SuspensionReason.Appeal))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(suspender.address, SUSPENDER_ROLE);
    });
  });

  describe("suspend", function () {
    it("records time, reason and suspender, and emits LeafSuspended", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      const tx = await registry.connect(suspender).suspend(leaf, SuspensionReason.Inquiry);
      const block = await blockOf(tx);
      await expect(tx)
        .to.emit(registry, "LeafSuspended")
        .withArgs(leaf, SuspensionReason.Inquiry);
      expect(await registry.suspensionOf(leaf)).to.deep.equal([
        BigInt(block.timestamp),
        BigInt(SuspensionReason.Inquiry),
        suspender.address,
      ]);
      expect(await registry.revocationOf(leaf)).to.deep.equal(NONE);
    });

    it("answers zeros for a leaf that was never suspended", async function () {
      const { registry } = await loadFixture(deployRegistryFixture);
      expect(await registry.suspensionOf(hash("leaf"))).to.deep.equal(NONE);
    });

    it("accepts every reason except Unspecified", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      for (const [name, value] of Object.entries(SuspensionReason)) {
        if (value === SuspensionReason.Unspecified) continue;
        await registry.connect(suspender).suspend(hash(name), value);
        expect((await registry.suspensionOf(hash(name)))[1]).to.equal(BigInt(value));
      }
    });

    it("reverts RegistryInvalidReason for Unspecified or a reason outside the enum", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const s = registry.connect(suspender);
      await expect(
        s.suspend(hash("leaf"), SuspensionReason.Unspecified),
      ).to.be.revertedWithCustomError(registry, "RegistryInvalidReason");
      await expect(s.suspend(hash("leaf"), 5)).to.be.reverted;
      for (const reason of [0, 5, 255]) {
        await expect(s.suspendBatch([hash("leaf")], [reason])).to.be.revertedWithCustomError(
          registry,
          "RegistryInvalidReason",
        );
      }
      expect(await registry.suspensionOf(hash("leaf"))).to.deep.equal(NONE);
    });

    it("reverts RegistryZeroLeaf for the zero leaf", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      await expect(
        registry.connect(suspender).suspend(ethers.ZeroHash, SuspensionReason.Appeal),
      ).to.be.revertedWithCustomError(registry, "RegistryZeroLeaf");
    });

    it("reverts RegistryLeafAlreadySuspended on a second suspension and keeps the first", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      await registry.connect(suspender).suspend(leaf, SuspensionReason.Appeal);
      const first = await registry.suspensionOf(leaf);
      await expect(registry.connect(suspender).suspend(leaf, SuspensionReason.Other))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadySuspended")
        .withArgs(leaf);
      expect(await registry.suspensionOf(leaf)).to.deep.equal(first);
    });

    it("reverts RegistryLeafAlreadyRevoked for a revoked leaf", async function () {
      const { registry, revoker, suspender } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      await registry.connect(revoker).revoke(leaf, Reason.Fraud);
      await expect(registry.connect(suspender).suspend(leaf, SuspensionReason.Appeal))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(leaf);
      expect(await registry.suspensionOf(leaf)).to.deep.equal(NONE);
    });

    it("lets an indexer filter suspensions by leaf or by reason", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const [a, b] = [hash("a"), hash("b")];
      await registry
        .connect(suspender)
        .suspendBatch([a, b], [SuspensionReason.Appeal, SuspensionReason.Payment]);
      const byLeaf = await registry.queryFilter(registry.filters.LeafSuspended(b));
      expect(byLeaf.map((e) => [e.args.leaf, e.args.reason])).to.deep.equal([
        [b, BigInt(SuspensionReason.Payment)],
      ]);
      const byReason = await registry.queryFilter(
        registry.filters.LeafSuspended(null, SuspensionReason.Appeal),
      );
      expect(byReason.map((e) => e.args.leaf)).to.deep.equal([a]);
    });
  });

  describe("suspendBatch", function () {
    it("suspends every leaf with its own reason and emits one event each", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const leaves = [hash("a"), hash("b"), hash("c")];
      const reasons = [SuspensionReason.Appeal, SuspensionReason.Payment, SuspensionReason.Other];
      const tx = await registry.connect(suspender).suspendBatch(leaves, reasons);
      const block = await blockOf(tx);
      for (let i = 0; i < leaves.length; i++) {
        await expect(tx).to.emit(registry, "LeafSuspended").withArgs(leaves[i], reasons[i]);
        expect(await registry.suspensionOf(leaves[i])).to.deep.equal([
          BigInt(block.timestamp),
          BigInt(reasons[i]),
          suspender.address,
        ]);
      }
    });

    it("reverts RegistryLengthMismatch and RegistryEmptyBatch", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const s = registry.connect(suspender);
      await expect(s.suspendBatch([hash("a"), hash("b")], [SuspensionReason.Appeal]))
        .to.be.revertedWithCustomError(registry, "RegistryLengthMismatch")
        .withArgs(2, 1);
      await expect(s.suspendBatch([], [])).to.be.revertedWithCustomError(
        registry,
        "RegistryEmptyBatch",
      );
    });

    it("reverts the whole batch on a duplicate, a suspended, a revoked or a zero leaf", async function () {
      const { registry, revoker, suspender } = await loadFixture(deployRegistryFixture);
      const s = registry.connect(suspender);
      const two = [SuspensionReason.Appeal, SuspensionReason.Appeal];
      await registry.connect(revoker).revoke(hash("revoked"), Reason.Fraud);
      await s.suspend(hash("suspended"), SuspensionReason.Inquiry);
      await expect(s.suspendBatch([hash("a"), hash("a")], two))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadySuspended")
        .withArgs(hash("a"));
      await expect(s.suspendBatch([hash("a"), hash("suspended")], two))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadySuspended")
        .withArgs(hash("suspended"));
      await expect(s.suspendBatch([hash("a"), hash("revoked")], two))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(hash("revoked"));
      await expect(s.suspendBatch([hash("a"), ethers.ZeroHash], two)).to.be.revertedWithCustomError(
        registry,
        "RegistryZeroLeaf",
      );
      expect(await registry.suspensionOf(hash("a"))).to.deep.equal(NONE);
    });
  });

  describe("unsuspend", function () {
    it("lifts a suspension, emits LeafUnsuspended, and lets the leaf be suspended again", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      await registry.connect(suspender).suspend(leaf, SuspensionReason.Appeal);
      await expect(registry.connect(suspender).unsuspend(leaf))
        .to.emit(registry, "LeafUnsuspended")
        .withArgs(leaf);
      expect(await registry.suspensionOf(leaf)).to.deep.equal(NONE);
      expect(await registry.revocationOf(leaf)).to.deep.equal(NONE);
      await registry.connect(suspender).suspend(leaf, SuspensionReason.Other);
      expect((await registry.suspensionOf(leaf))[1]).to.equal(BigInt(SuspensionReason.Other));
    });

    it("reverts RegistryLeafNotSuspended for a valid leaf or a lifted suspension", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      await expect(registry.connect(suspender).unsuspend(leaf))
        .to.be.revertedWithCustomError(registry, "RegistryLeafNotSuspended")
        .withArgs(leaf);
      await registry.connect(suspender).suspend(leaf, SuspensionReason.Appeal);
      await registry.connect(suspender).unsuspend(leaf);
      await expect(registry.connect(suspender).unsuspend(leaf))
        .to.be.revertedWithCustomError(registry, "RegistryLeafNotSuspended")
        .withArgs(leaf);
    });

    it("reverts RegistryLeafAlreadyRevoked for a revoked leaf", async function () {
      const { registry, revoker, suspender } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      await registry.connect(revoker).revoke(leaf, Reason.Fraud);
      await expect(registry.connect(suspender).unsuspend(leaf))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(leaf);
      expect((await registry.revocationOf(leaf))[1]).to.equal(BigInt(Reason.Fraud));
    });
  });

  describe("unsuspendBatch", function () {
    it("lifts every suspension and emits one event each", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const leaves = [hash("a"), hash("b")];
      const reasons = [SuspensionReason.Appeal, SuspensionReason.Inquiry];
      await registry.connect(suspender).suspendBatch(leaves, reasons);
      const tx = await registry.connect(suspender).unsuspendBatch(leaves);
      for (const leaf of leaves) {
        await expect(tx).to.emit(registry, "LeafUnsuspended").withArgs(leaf);
        expect(await registry.suspensionOf(leaf)).to.deep.equal(NONE);
      }
    });

    it("reverts RegistryEmptyBatch for an empty batch", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      await expect(registry.connect(suspender).unsuspendBatch([])).to.be.revertedWithCustomError(
        registry,
        "RegistryEmptyBatch",
      );
    });

    it("reverts the whole batch when one leaf is not suspended or listed twice", async function () {
      const { registry, suspender } = await loadFixture(deployRegistryFixture);
      const s = registry.connect(suspender);
      await s.suspend(hash("a"), SuspensionReason.Appeal);
      await expect(s.unsuspendBatch([hash("a"), hash("b")]))
        .to.be.revertedWithCustomError(registry, "RegistryLeafNotSuspended")
        .withArgs(hash("b"));
      await expect(s.unsuspendBatch([hash("a"), hash("a")]))
        .to.be.revertedWithCustomError(registry, "RegistryLeafNotSuspended")
        .withArgs(hash("a"));
      expect((await registry.suspensionOf(hash("a")))[0]).to.be.greaterThan(0n);
    });
  });

  describe("revocation of a suspended leaf", function () {
    it("overrides the suspension: revoked, no longer suspended, LeafRevoked emitted", async function () {
      const { registry, revoker, suspender } = await loadFixture(deployRegistryFixture);
      const leaf = hash("leaf");
      await registry.connect(suspender).suspend(leaf, SuspensionReason.Inquiry);
      const tx = await registry.connect(revoker).revoke(leaf, Reason.Fraud);
      const receipt = await tx.wait();
      const block = await ethers.provider.getBlock(receipt.blockNumber);
      expect(revokedLeaves(registry, receipt)).to.deep.equal([leaf]);
      await expect(tx).to.not.emit(registry, "LeafUnsuspended");
      expect(await registry.revocationOf(leaf)).to.deep.equal([
        BigInt(block.timestamp),
        BigInt(Reason.Fraud),
        revoker.address,
      ]);
      expect(await registry.suspensionOf(leaf)).to.deep.equal(NONE);
    });

    it("works in a batch mixing suspended and valid leaves, and stays final", async function () {
      const { registry, revoker, suspender } = await loadFixture(deployRegistryFixture);
      const [a, b] = [hash("a"), hash("b")];
      await registry.connect(suspender).suspend(a, SuspensionReason.Appeal);
      await registry.connect(revoker).revokeBatch([a, b], [Reason.Fraud, Reason.HolderRequest]);
      await expect(registry.connect(revoker).revoke(a, Reason.Fraud))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(a);
      await expect(registry.connect(suspender).suspend(b, SuspensionReason.Appeal))
        .to.be.revertedWithCustomError(registry, "RegistryLeafAlreadyRevoked")
        .withArgs(b);
    });
  });

  describe("checkCertificate", function () {
    async function anchoredLeafFixture() {
      const fixture = await deployRegistryFixture();
      const leaf = hash("single");
      await fixture.registry.connect(fixture.issuer).anchorBatch(leaf);
      return { ...fixture, leaf };
    }

    it("answers a suspension in the same call, with no revocation", async function () {
      const { registry, suspender, leaf } = await loadFixture(anchoredLeafFixture);
      const block = await blockOf(
        await registry.connect(suspender).suspend(leaf, SuspensionReason.Payment),
      );
      const status = await registry.checkCertificate(leaf, []);
      expect(status.anchoredAt).to.be.greaterThan(0n);
      expect(status.suspendedAt).to.equal(block.timestamp);
      expect(status.suspensionReason).to.equal(SuspensionReason.Payment);
      expect(status.suspendedBy).to.equal(suspender.address);
      expect(status.revokedAt).to.equal(0n);
      expect(status.revocationReason).to.equal(Reason.Unspecified);
      expect(status.revokedBy).to.equal(ethers.ZeroAddress);
    });

    it("answers zeros for the suspension once it is lifted", async function () {
      const { registry, suspender, leaf } = await loadFixture(anchoredLeafFixture);
      await registry.connect(suspender).suspend(leaf, SuspensionReason.Payment);
      await registry.connect(suspender).unsuspend(leaf);
      const status = await registry.checkCertificate(leaf, []);
      expect(status.suspendedAt).to.equal(0n);
      expect(status.suspensionReason).to.equal(SuspensionReason.Unspecified);
      expect(status.suspendedBy).to.equal(ethers.ZeroAddress);
    });

    it("answers the revocation, not the suspension, of a suspended then revoked leaf", async function () {
      const { registry, revoker, suspender, leaf } = await loadFixture(anchoredLeafFixture);
      await registry.connect(suspender).suspend(leaf, SuspensionReason.Appeal);
      await registry.connect(revoker).revoke(leaf, Reason.IssuerError);
      const status = await registry.checkCertificate(leaf, []);
      expect(status.revokedAt).to.be.greaterThan(0n);
      expect(status.revocationReason).to.equal(Reason.IssuerError);
      expect(status.revokedBy).to.equal(revoker.address);
      expect(status.suspendedAt).to.equal(0n);
      expect(status.suspensionReason).to.equal(SuspensionReason.Unspecified);
      expect(status.suspendedBy).to.equal(ethers.ZeroAddress);
    });
  });
});
