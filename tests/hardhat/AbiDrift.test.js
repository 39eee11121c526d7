// The committed contracts/abi/CertificateRegistry.json must match a fresh compilation.
const { expect } = require("chai");
const hre = require("hardhat");
const { buildExport, readCommitted, EXPORT_COMMAND } = require("../../scripts/export-abi");

describe("Committed ABI (contracts/abi/CertificateRegistry.json)", function () {
  let fresh;
  let committed;

  before(async function () {
    fresh = await buildExport(hre);
    committed = readCommitted();
  });

  const hint = `is out of date with contracts/CertificateRegistry.sol: run \`${EXPORT_COMMAND}\` and commit contracts/abi/CertificateRegistry.json`;

  it("exists", function () {
    expect(committed, `the committed ABI is missing: run \`${EXPORT_COMMAND}\``).to.not.equal(null);
  });

  for (const field of ["sourceSha256", "solcVersion", "abi", "bytecode", "deployedBytecode"]) {
    it(`has the same ${field} as the freshly compiled artifact`, function () {
      // Compare as JSON so a drift prints the hint, not two 7 kB bytecode strings.
      const same = JSON.stringify(committed[field]) === JSON.stringify(fresh[field]);
      expect(same, `the committed ${field} ${hint}`).to.equal(true);
    });
  }
});
