import { defineConfig } from 'vitest/config';

// Proving tests run snarkjs, which misbehaves in worker threads: keep vitest's default `forks` pool.
// Two forks on a 2-core machine (vitest's default is cores − 1 = 1): much of the suite waits on
// child processes (miners, validators, Hardhat nodes, the CLI), so a second file fills that time;
// measured on a clean clone, 1001 s against 1407 s with one fork.
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    include: ['**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    exclude: ['node_modules/**', 'artifacts/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
