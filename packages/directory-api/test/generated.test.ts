import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../../../tools/ts-proto';
import { GENERATED_DIR, generate, PACKAGE_ROOT } from '../scripts/generate';

describe('generated code', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-generate-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is what `npm run generate -w @dirtk/directory-api` writes from proto/, byte for byte', () => {
    generate(scratch);
    const committed = path.join(PACKAGE_ROOT, GENERATED_DIR);
    const fresh = path.join(scratch, GENERATED_DIR);
    expect(filesUnder(committed)).toEqual(filesUnder(fresh));
    expect(filesUnder(fresh)).toContain('descriptor-set.ts');
    for (const file of filesUnder(fresh)) {
      expect(readFileSync(path.join(committed, file)).equals(readFileSync(path.join(fresh, file))), `${GENERATED_DIR}/${file} differs: run npm run generate -w @dirtk/directory-api`).toBe(true);
    }
  });
});
