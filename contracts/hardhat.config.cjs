// Local EVM node for tests and the demo: `hardhat node --hostname 127.0.0.1`. No compilation here
// (contracts are compiled with solc-js by contracts/compileSolidity.ts).
module.exports = {
  // ZKINFER_CHAIN_ID lets tests run a second chain (cross-chain replay of attestations)
  networks: {
    hardhat: {
      chainId: Number(process.env.ZKINFER_CHAIN_ID || 31337),
      mining: { auto: true },
      allowUnlimitedContractSize: false,
    },
  },
};
