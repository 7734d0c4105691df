// Local EVM node for tests and the demo: `hardhat node --hostname 127.0.0.1`. No compilation here
// (contracts are compiled with solc-js by contracts/compileSolidity.ts).
module.exports = {
  networks: { hardhat: { chainId: 31337, mining: { auto: true }, allowUnlimitedContractSize: false } },
};
