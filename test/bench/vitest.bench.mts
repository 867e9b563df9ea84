import { defineConfig } from 'vitest/config';

// `npm run bench`: one file runs every measurement and prints one table. Not part of `npm test`
// (vitest.config.mts only includes test/**/*.test.ts).
export default defineConfig({
  test: {
    include: ['test/bench/benchmark.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    disableConsoleIntercept: true,
    reporters: ['dot'],
  },
});
