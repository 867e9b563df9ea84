import { defineConfig } from 'vitest/config';

// `npm run eval`: the retrieval evaluation over the sample corpus, printed as one table. Not part of
// `npm test` (vitest.config.mts only includes test/**/*.test.ts); it informs, it never fails a build.
export default defineConfig({
  test: {
    include: ['test/eval/retrieval-eval.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 180_000,
    pool: 'forks',
    disableConsoleIntercept: true,
    reporters: ['dot'],
  },
});
