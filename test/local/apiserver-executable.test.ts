/** The apiserver's own copy of Node, which its registration entry selects by path. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareApiServerExecutable } from '../../local/apiserver-executable';

const scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-exe-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

describe('prepareApiServerExecutable', () => {
  it('copies the running Node to a path of its own, executable by the owner alone, in a folder only the owner enters', () => {
    const file = prepareApiServerExecutable(path.join(scratch, 'plain', 'apiserver-bin', 'node'));
    expect(file).toBe(path.join(realpathSync(scratch), 'plain', 'apiserver-bin', 'node'));
    expect(file).not.toBe(realpathSync(process.execPath));
    expect(sha256(file)).toBe(sha256(process.execPath));
    expect(statSync(file).mode & 0o777).toBe(0o500);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('returns the real path, which /proc/<pid>/exe shows, when the state folder is reached through a symbolic link', () => {
    mkdirSync(path.join(scratch, 'target'));
    symlinkSync(path.join(scratch, 'target'), path.join(scratch, 'link'));
    expect(prepareApiServerExecutable(path.join(scratch, 'link', 'node'))).toBe(path.join(realpathSync(scratch), 'target', 'node'));
  });
});
