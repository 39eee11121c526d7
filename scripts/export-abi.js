// Writes contracts/abi/CertificateRegistry.json (ABI + bytecode) for the Python client.
// Run: npm run export-abi   (or: npx hardhat run scripts/export-abi.js)
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const CONTRACT = "CertificateRegistry";
const ROOT = path.join(__dirname, "..");
const SOURCE = path.join(ROOT, "contracts", `${CONTRACT}.sol`);
const OUTPUT = path.join(ROOT, "contracts", "abi", `${CONTRACT}.json`);
const EXPORT_COMMAND = "npm run export-abi";

/** Builds the committed export from the compiled artifact of `hre`. */
async function buildExport(hre) {
  const artifact = await hre.artifacts.readArtifact(CONTRACT);
  return {
    contractName: artifact.contractName,
    solcVersion: hre.config.solidity.compilers[0].version,
    sourceSha256: crypto.createHash("sha256").update(fs.readFileSync(SOURCE)).digest("hex"),
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    deployedBytecode: artifact.deployedBytecode,
  };
}

/** Reads the committed export, or null when it does not exist yet. */
function readCommitted() {
  if (!fs.existsSync(OUTPUT)) return null;
  return JSON.parse(fs.readFileSync(OUTPUT, "utf8"));
}

async function main() {
  const hre = require("hardhat");
  await hre.run("compile", { quiet: true });
  const exported = await buildExport(hre);
  fs.mkdirSync(path.dirname(OUTPUT), { recursive: true });
  const tmp = `${OUTPUT}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(exported, null, 2)}\n`);
  fs.renameSync(tmp, OUTPUT);
  console.log(`wrote ${path.relative(ROOT, OUTPUT)} (source sha256 ${exported.sourceSha256})`);
}

module.exports = { buildExport, readCommitted, EXPORT_COMMAND, OUTPUT };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
