import { defineConfig } from 'vitest/config';
import { useModuleProxyOnly } from './tools/go-env.js';

useModuleProxyOnly();

/** `npm run test:kind`: the real two-Kind-cluster run only (see test/kind/kind.e2e.test.ts). */
export default defineConfig({
  test: {
    include: ['test/kind/kind.e2e.test.ts'],
    maxWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 10 * 60_000,
    reporters: ['default'],
  },
});
