#!/usr/bin/env node
// dirctl from its TypeScript source: Node 20 cannot run .ts files, so register tsx's CommonJS hook
// first (for this process only; a bundled dirctl, as in the apiserver image, needs none of this).
require('tsx/cjs/api').register();
require('../src/main.ts');
