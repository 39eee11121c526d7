// The shared vectors (tests/vectors/merkle.json, written by scripts/make_vectors.py) checked
// against the contract and against an independent ethers implementation of the scheme.
const { expect } = require("chai");
const { ethers } = require("hardhat");
const { loadFixture } = require("@nomicfoundation/hardhat-toolbox/network-helpers");
const vectors = require("../vectors/merkle.json");
const { deployRegistryFixture, processProof, rootOf } = require("./fixtures");

const LEAF_TAG = ethers.toUtf8Bytes("SCEAU/leaf/v1");

function leafOf({ certificate_id, salt, pdf_sha256 }) {
  const id = ethers.getBytes(`0x${certificate_id}`);
  const pdf = ethers.getBytes(`0x${pdf_sha256}`);
  expect(id.length).to.equal(16);
  expect(ethers.getBytes(salt).length).to.equal(32);
  expect(pdf.length).to.equal(32);
  return ethers.keccak256(ethers.keccak256(ethers.concat([LEAF_TAG, id, salt, pdf])));
}

async function anchoredVectorsFixture() {
  const fixture = await deployRegistryFixture();
  for (const tree of vectors.trees) {
    await fixture.registry.connect(fixture.issuer).anchorBatch(tree.root);
  }
  return fixture;
}

describe("Merkle vectors (tests/vectors/merkle.json)", function () {
  it("has trees of 1, 2, 3, 5 and 8 leaves and some invalid cases", function () {
    expect(vectors.trees.map((t) => t.leaves.length)).to.deep.equal([1, 2, 3, 5, 8]);
    expect(vectors.invalid.length).to.be.greaterThan(0);
  });

  describe("independent ethers implementation", function () {
    for (const tree of vectors.trees) {
      it(`recomputes every leaf, node and the root of ${tree.name}`, function () {
        for (const cert of tree.leaves) expect(leafOf(cert)).to.equal(cert.leaf);
        expect(rootOf(tree.leaves.map((c) => c.leaf))).to.equal(tree.root);
        expect(tree.proofs.length).to.equal(tree.leaves.length);
        for (const { leaf, proof } of tree.proofs) {
          expect(processProof(leaf, proof)).to.equal(tree.root);
        }
      });
    }

    for (const bad of vectors.invalid) {
      it(`rejects ${bad.name}: ${bad.why}`, function () {
        expect(processProof(bad.leaf, bad.proof)).to.not.equal(bad.root);
      });
    }
  });

  describe("checkCertificate", function () {
    for (const tree of vectors.trees) {
      it(`accepts every proof of ${tree.name} once its root is anchored`, async function () {
        const { registry, issuer } = await loadFixture(anchoredVectorsFixture);
        for (const { leaf, proof } of tree.proofs) {
          const status = await registry.checkCertificate(leaf, proof);
          expect(status.root).to.equal(tree.root);
          expect(status.anchoredAt).to.be.greaterThan(0n);
          expect(status.anchoredBy).to.equal(issuer.address);
        }
      });
    }

    for (const bad of vectors.invalid) {
      it(`does not accept ${bad.name}`, async function () {
        const { registry } = await loadFixture(anchoredVectorsFixture);
        const status = await registry.checkCertificate(bad.leaf, bad.proof);
        expect(status.root).to.not.equal(bad.root);
        expect(status.anchoredAt).to.equal(0n);
      });
    }

    it("does not accept a valid proof before its root is anchored", async function () {
      const { registry } = await loadFixture(deployRegistryFixture);
      const tree = vectors.trees.at(-1);
      const status = await registry.checkCertificate(tree.proofs[0].leaf, tree.proofs[0].proof);
      expect(status.root).to.equal(tree.root);
      expect(status.anchoredAt).to.equal(0n);
    });
  });
});
