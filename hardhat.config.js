// Hardhat 2 configuration for the Sceau on-chain layer.
// The compiler is the npm `solc` package (solc-js): nothing is ever downloaded.
const path = require("node:path");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");
require("@nomicfoundation/hardhat-toolbox");

const SOLC_VERSION = require("solc/package.json").version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) {
    // Refuse rather than let Hardhat fetch another compiler from the network.
    throw new Error(
      `Only solc ${SOLC_VERSION} (npm package "solc") is available offline; asked for ${args.solcVersion}`,
    );
  }
  const solc = require("solc");
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: solc.version(),
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      // The IR pipeline with many runs: the registry is deployed once and called for every batch
      // and revocation, so runtime gas is what counts (see tests/hardhat/Gas.test.js).
      optimizer: { enabled: true, runs: 1_000_000 },
      viaIR: true,
      evmVersion: "cancun",
    },
  },
  paths: {
    root: __dirname,
    sources: path.join(__dirname, "contracts"),
    tests: path.join(__dirname, "tests", "hardhat"),
    cache: path.join(__dirname, "build", "hardhat", "cache"),
    artifacts: path.join(__dirname, "build", "hardhat", "artifacts"),
  },
  // The toolbox's gas reporter would query price APIs; gas is read from receipts instead.
  gasReporter: { enabled: false, offline: true },
  typechain: { outDir: path.join("build", "hardhat", "typechain-types"), dontOverrideCompile: true },
  mocha: { timeout: 120000 },
};
