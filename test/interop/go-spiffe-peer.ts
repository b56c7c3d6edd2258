/**
 * Builds the go-spiffe peer of the interoperability tests (`test/interop/go-spiffe-peer/`, a Go module
 * pinned to go-spiffe and grpc-go) with `go build -trimpath`, into the cache outside the clone:
 * `<CACHE_ROOT>/go-spiffe-peer/<key>/go-spiffe-peer`, where the key is a hash of the module's go.mod,
 * go.sum and Go sources. A build that is already there is reused; parallel test workers each build to
 * a temporary name and rename it into place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CACHE_ROOT } from '../../tools/paths';

export const GO_PEER_MODULE_DIR = path.join(__dirname, 'go-spiffe-peer');
/** `-buildvcs=false`: the module sits inside this clone; its git state must not change the binary. */
const GOFLAGS = '-mod=readonly -buildvcs=false';
const BUILD_ARGS = ['build', '-trimpath'];

export type GoPeerBuildProblem = 'go-missing' | 'proxy' | 'compile';

export class GoPeerBuildError extends Error {
  override name = 'GoPeerBuildError';
  constructor(
    /** `go-missing` and `proxy` are about this machine; `compile` is about the peer's code. */
    readonly problem: GoPeerBuildProblem,
    message: string,
  ) {
    super(message);
  }
}

function progress(line: string): void {
  process.stderr.write(`[go-spiffe-peer] ${line}\n`);
}

/** The files the build depends on, in a stable order. */
function sourceFiles(): string[] {
  const goFiles = readdirSync(GO_PEER_MODULE_DIR)
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))
    .sort();
  return ['go.mod', 'go.sum', ...goFiles];
}

export function goPeerBuildKey(): string {
  const hash = createHash('sha256');
  hash.update(BUILD_ARGS.join(' ')).update('\0').update(GOFLAGS).update('\0');
  for (const file of sourceFiles()) {
    hash.update(file).update('\0').update(readFileSync(path.join(GO_PEER_MODULE_DIR, file))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** Where the binary for the current sources lives (whether or not it is built yet). */
export function goPeerBinaryPath(): string {
  return path.join(CACHE_ROOT, 'go-spiffe-peer', goPeerBuildKey(), 'go-spiffe-peer');
}

/** Returns the path of the built peer, building it first when the cache has none for these sources. */
export async function ensureGoSpiffePeer(log: (line: string) => void = progress): Promise<string> {
  const binary = goPeerBinaryPath();
  if (existsSync(binary)) {
    log(`ready: ${binary}`);
    return binary;
  }
  const { execa } = await import('execa');
  const go = await execa('go', ['env', 'GOVERSION'], { reject: false });
  if (go.failed) {
    throw new GoPeerBuildError(
      'go-missing',
      'Go is not installed (or not on PATH): the go-spiffe interop peer is built from source with `go build`. Install Go 1.25 or later.',
    );
  }

  mkdirSync(path.dirname(binary), { recursive: true });
  const temporary = `${binary}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  log(`building with ${go.stdout.trim()} into ${binary}`);
  const started = Date.now();
  const result = await execa('go', [...BUILD_ARGS, '-o', temporary, '.'], {
    cwd: GO_PEER_MODULE_DIR,
    env: { GOFLAGS },
    reject: false,
    all: true,
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (result.failed) {
    rmSync(temporary, { force: true });
    const output = result.all ?? '';
    if (/reading https?:\/\/|GOPROXY|dial tcp|403 Forbidden|404 Not Found|410 Gone|connection refused|no such host|i\/o timeout|TLS handshake timeout/i.test(output)) {
      throw new GoPeerBuildError(
        'proxy',
        `go build of the go-spiffe peer could not fetch its modules (Go module proxy refused or unreachable; GOPROXY=${process.env.GOPROXY ?? 'default'}) after ${seconds} s:\n${output}`,
      );
    }
    throw new GoPeerBuildError('compile', `go build of the go-spiffe peer failed after ${seconds} s:\n${output}`);
  }
  // Another worker may have finished first; keep its binary (a peer may already be running from it).
  if (existsSync(binary)) {
    rmSync(temporary, { force: true });
  } else {
    renameSync(temporary, binary);
  }
  log(`built in ${seconds} s`);
  return binary;
}
