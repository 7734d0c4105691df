import { defineConfig } from 'vitest/config';

// Proving tests run snarkjs, which misbehaves in worker threads: keep vitest's default `forks` pool.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    exclude: ['node_modules/**', 'artifacts/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
