/**
 * `npm start` and `npm run local:down` as a user runs them (`tsx local/main.ts`, `tsx local/down.ts`),
 * as child processes: the tour table, a second start refused, stopping by local:down and by Ctrl-C.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { readEndpoints } from '../../local/endpoints';
import { readLock } from '../../local/instance-lock';
import { isAlive } from '../../local/recorded-processes';
import { stopLocalInstance } from '../../local/stop-instance';
import { PROJECT_ROOT } from '../../tools/paths';
import { whySpireIsUnavailable } from '../support/spire-available';

let skipReason: string | undefined;
let scratch: string;
const started: ChildProcess[] = [];

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

interface Cli {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Node and the system's tools but no Go: local mode needs none once SPIRE is built. */
const PATH_WITHOUT_GO = [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter);

/** `tsx local/<script>.ts args…`, with no Go on PATH, stdout and stderr collected together. */
function cli(script: 'main' | 'down', args: readonly string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('local', `${script}.ts`), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PATH: PATH_WITHOUT_GO },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  const listeners = new Set<() => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const listener of listeners) listener();
    });
  }
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(output)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms:\n${output}`)), timeoutMs);
        listeners.add(check);
        void exited.then(() => reject(new Error(`exited before printing ${pattern}:\n${output}`)));
        check();
      }),
  };
}

function tourRowsPassed(output: string): number {
  return output.split('\n').filter((line) => /^(push|pull|lookup|referrers|credentials|signature|sync) .*spiffe:\/\/.* ✓$/.test(line)).length;
}

beforeAll(async () => {
  skipReason = await whySpireIsUnavailable();
  if (skipReason) console.warn(`SKIPPING the npm start tests: ${skipReason}`);
  scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-cli-'));
}, 1_800_000);

afterAll(async () => {
  // A test that failed before its own `down` leaves an instance running: stop each by its lock, as `local:down` does.
  for (const entry of existsSync(scratch) ? readdirSync(scratch) : []) await stopLocalInstance(path.join(scratch, entry), () => {});
  for (const child of started) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe('npm start', () => {
  it('runs with a PATH that has no Go on it', () => {
    expect(execFileSync('sh', ['-c', 'command -v go || echo none'], { env: { PATH: PATH_WITHOUT_GO } }).toString().trim()).toBe('none');
  });

  it('runs until local:down stops everything it started, and a second start meanwhile says it runs', async (context) => {
    skipIfUnavailable(context);
    const stateDir = path.join(scratch, 'down');
    const first = cli('main', ['--state-dir', stateDir]);
    await first.waitFor(/running; endpoints in .*Stop with Ctrl-C or `npm run local:down`/);
    // Both domains run a Directory: 5 calls of its own dirctl and 5 of the peer's per apiserver, then 5 sync rows per Directory.
    expect(tourRowsPassed(first.output())).toBe(30);
    expect(first.output()).toMatch(
      /^\[ *\d+\.\ds\] OCI registries serving, each trusting only its apiserver's token key: dir\.example \(http:\/\/127\.0\.0\.1:\d+\), dirctl\.example \(http:\/\/127\.0\.0\.1:\d+\)$/m,
    );
    expect(first.output()).toMatch(
      /^\[ *\d+\.\ds\] apiserver of dir\.example serving as spiffe:\/\/dir\.example\/ns\/dir\/sa\/dir-apiserver on 127\.0\.0\.1:\d+, records in http:\/\/127\.0\.0\.1:\d+, may sync from 127\.0\.0\.1:\d+=spiffe:\/\/dirctl\.example\/ns\/dir\/sa\/dir-apiserver$/m,
    );
    expect(readEndpoints(path.join(stateDir, 'endpoints.json')).pid).toBe(first.child.pid);
    const processes = readLock(path.join(stateDir, 'local.lock'))!.processes;
    expect(processes).toHaveLength(8);

    const second = cli('main', ['--state-dir', stateDir]);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`dirtk local mode is already running in ${stateDir} (pid ${first.child.pid}, started `);
    expect(second.output()).toContain('stop it with `npm run local:down` or Ctrl-C in its terminal');
    expect(isAlive(first.child.pid!)).toBe(true);
    expect(existsSync(path.join(stateDir, 'endpoints.json'))).toBe(true);

    const down = cli('down', ['--state-dir', stateDir]);
    expect(await down.exited).toBe(0);
    expect(down.output()).toContain(`stopping dirtk local mode (pid ${first.child.pid}`);
    expect(await first.exited).toBe(0);
    expect(processes.filter((record) => isAlive(record.pid))).toEqual([]);
    expect(existsSync(path.join(stateDir, 'local.lock'))).toBe(false);
    expect(existsSync(path.join(stateDir, 'endpoints.json'))).toBe(false);

    const again = cli('down', ['--state-dir', stateDir]);
    expect(await again.exited).toBe(0);
    expect(again.output()).toContain(`no dirtk local mode is running in ${stateDir}`);
  }, 120_000);

  it('stops what it has started when interrupted (Ctrl-C) while starting', async (context) => {
    skipIfUnavailable(context);
    const stateDir = path.join(scratch, 'interrupted');
    const run = cli('main', ['--state-dir', stateDir]);
    await run.waitFor(/SPIRE servers healthy/);
    const servers = readLock(path.join(stateDir, 'local.lock'))!.processes;
    expect(servers.map((record) => record.name)).toEqual(expect.arrayContaining(['SPIRE server of dir.example', 'SPIRE server of dirctl.example']));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('SIGINT: stopping everything local mode started');
    expect(servers.filter((record) => isAlive(record.pid))).toEqual([]);
    expect(existsSync(path.join(stateDir, 'local.lock'))).toBe(false);
  }, 60_000);

  it('with --exit-after-tour prints the tour table and leaves nothing running', async (context) => {
    skipIfUnavailable(context);
    const stateDir = path.join(scratch, 'tour');
    const run = cli('main', ['--exit-after-tour', '--state-dir', stateDir]);
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toMatch(/^call +caller +expected +actual$/m);
    expect(run.output()).toMatch(/^push dirctl\.example\.record\.json +spiffe:\/\/dirctl\.example\/ns\/dir\/sa\/dirctl +PERMISSION_DENIED +PERMISSION_DENIED +✓$/m);
    expect(tourRowsPassed(run.output())).toBe(30);
    expect(existsSync(path.join(stateDir, 'local.lock'))).toBe(false);
  }, 120_000);
});
