import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { EXIT_USAGE } from '@dirtk/directory-api/contract';

const BIN = path.join(__dirname, '..', 'bin', 'dirctl.cjs');

describe('the dirctl bin', () => {
  it('runs under plain node: --help prints the usage and exits 0', async () => {
    const run = await execa(process.execPath, [BIN, '--help'], { reject: false });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Usage: dirctl <command> [arguments] [options]');
    expect(run.stderr).toBe('');
  }, 60_000);

  it('exits with the usage code for an unknown command', async () => {
    const run = await execa(process.execPath, [BIN, 'frobnicate'], { reject: false });
    expect(run.exitCode).toBe(EXIT_USAGE);
  }, 60_000);
});
