import { defineConfig } from 'vitest/config';
import { useModuleProxyOnly } from './tools/go-env.js';

useModuleProxyOnly();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    // The real Kind run is a tier of its own: npm run test:kind (vitest.kind.config.mts).
    exclude: ['**/node_modules/**', 'test/kind/kind.e2e.test.ts'],
    // Integration suites start real SPIRE processes; two cores do not gain from more workers.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
