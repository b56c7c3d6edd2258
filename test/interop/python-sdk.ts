/**
 * The AGNTCY Directory's published Python SDK as an independent peer: a virtualenv outside the clone,
 * keyed by the pinned versions, `<CACHE_ROOT>/python/agntcy-dir-<version>/`, and the helper
 * `python-sdk/directory_sdk.py` run inside it (golden fixtures, and calls with the SDK's gRPC stubs).
 *
 * Why agntcy-dir 1.2.0: it is the newest release on PyPI whose wheel carries the generated `*_pb2`
 * modules; later releases depend on `agntcy-dir-protocolbuffers-python`, which only buf's own package
 * index serves. It is installed without its dependencies (SPIFFE, HTTP and signing libraries the
 * helper does not use, and protovalidate's generated code, also only on buf's index): the helper
 * needs the generated modules, protobuf and grpcio, pinned here.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CACHE_ROOT } from '../../tools/paths';

const run = promisify(execFile);

export const DIRECTORY_SDK_VERSION = '1.2.0';
/** What the helper needs, exactly pinned; part of the venv's readiness marker, so a change reinstalls. */
const REQUIREMENTS = ['protobuf==7.36.2', 'grpcio==1.85.3'] as const;
export const DIRECTORY_SDK_HELPER = path.join(__dirname, 'python-sdk', 'directory_sdk.py');
const VENV_DIR = path.join(CACHE_ROOT, 'python', `agntcy-dir-${DIRECTORY_SDK_VERSION}`);
const READY_MARKER = path.join(VENV_DIR, 'dirtk-ready');
const PYTHON = path.join(VENV_DIR, 'bin', 'python');
const INSTALL_TIMEOUT_MS = 600_000;

/** Why the SDK's venv could not be made on this machine; tests skip with this message. */
export class PythonSdkUnavailable extends Error {
  override name = 'PythonSdkUnavailable';
}

function markerText(): string {
  return [`agntcy-dir==${DIRECTORY_SDK_VERSION}`, ...REQUIREMENTS].join('\n');
}

function progress(started: number, line: string): void {
  process.stderr.write(`[python-sdk ${((Date.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
}

async function step(started: number, what: string, file: string, args: readonly string[]): Promise<void> {
  progress(started, what);
  try {
    await run(file, args, { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new PythonSdkUnavailable(`${what} failed: ${(stderr ?? '').trim().split('\n').slice(-5).join('\n') || message}`);
  }
}

/**
 * Returns the venv's python, making the venv first when it is missing or was made for other pins.
 * It is built under a temporary name and renamed into place, so a half-made venv is never used.
 */
export async function ensureDirectorySdk(): Promise<string> {
  const started = Date.now();
  if (existsSync(READY_MARKER) && readFileSync(READY_MARKER, 'utf8') === markerText()) {
    progress(started, `ready: ${VENV_DIR}`);
    return PYTHON;
  }
  const building = `${VENV_DIR}.tmp-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  try {
    await step(started, `python3 -m venv ${building}`, 'python3', ['-m', 'venv', building]);
    const pip = path.join(building, 'bin', 'pip');
    const quiet = ['--quiet', '--disable-pip-version-check', '--no-input'];
    await step(started, `pip install agntcy-dir==${DIRECTORY_SDK_VERSION} (without its dependencies)`, pip, ['install', ...quiet, '--no-deps', `agntcy-dir==${DIRECTORY_SDK_VERSION}`]);
    await step(started, `pip install ${REQUIREMENTS.join(' ')}`, pip, ['install', ...quiet, ...REQUIREMENTS]);
    writeFileSync(path.join(building, 'dirtk-ready'), markerText());
    rmSync(VENV_DIR, { recursive: true, force: true });
    renameSync(building, VENV_DIR);
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  // A venv's scripts name its own path, so check the moved one still runs before calling it ready.
  await step(started, 'import check of the moved venv', PYTHON, ['-c', 'import grpc, google.protobuf, agntcy.dir.store.v1']);
  progress(started, `ready: ${VENV_DIR}`);
  return PYTHON;
}

/** Runs the helper with `args` in the SDK's venv; its stdout, parsed as JSON. */
export async function runDirectorySdk<T>(python: string, args: readonly string[]): Promise<T> {
  const { stdout } = await run(python, [DIRECTORY_SDK_HELPER, ...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}

/** The committed golden fixtures that `packages/directory-api/test/wire-golden.test.ts` checks our generated code against. */
export const WIRE_FIXTURES_FILE = path.resolve(__dirname, '../../packages/directory-api/test/fixtures/directory-sdk-wire.json');

/** The fixtures as the SDK writes them now, in the committed file's format. */
export async function directorySdkFixturesText(python: string): Promise<string> {
  return `${JSON.stringify(await runDirectorySdk(python, ['fixtures']), null, 2)}\n`;
}

// `npx tsx test/interop/python-sdk.ts`: (re)writes the committed fixtures with the SDK.
if (require.main === module) {
  void (async () => {
    writeFileSync(WIRE_FIXTURES_FILE, await directorySdkFixturesText(await ensureDirectorySdk()));
    process.stderr.write(`wrote ${path.relative(process.cwd(), WIRE_FIXTURES_FILE)}\n`);
  })().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
