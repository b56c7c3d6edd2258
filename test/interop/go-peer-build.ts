/**
 * Builds a Go peer of the interoperability tests (a Go module under `test/interop/<name>/`) with
 * `go build -trimpath`, into the cache outside the clone: `<CACHE_ROOT>/<name>/<key>/<name>`, where
 * the key is a hash of the module's go.mod, go.sum and Go sources. A build that is already there is
 * reused; parallel test workers each build to a temporary name and rename it into place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CACHE_ROOT } from '../../tools/paths';

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

export class GoPeerBuild {
  readonly moduleDir: string;

  /** `name` is the module's directory under test/interop, and the binary's name. */
  constructor(readonly name: string) {
    this.moduleDir = path.join(__dirname, name);
  }

  /** A hash of everything the build depends on. */
  buildKey(): string {
    const hash = createHash('sha256');
    hash.update(BUILD_ARGS.join(' ')).update('\0').update(GOFLAGS).update('\0');
    for (const file of this.sourceFiles()) {
      hash.update(file).update('\0').update(readFileSync(path.join(this.moduleDir, file))).update('\0');
    }
    return hash.digest('hex').slice(0, 16);
  }

  /** Where the binary for the current sources lives (whether or not it is built yet). */
  binaryPath(): string {
    return path.join(CACHE_ROOT, this.name, this.buildKey(), this.name);
  }

  /** Returns the path of the built peer, building it first when the cache has none for these sources. */
  async ensure(log: (line: string) => void = (line) => process.stderr.write(`[${this.name}] ${line}\n`)): Promise<string> {
    const binary = this.binaryPath();
    if (existsSync(binary)) {
      log(`ready: ${binary}`);
      return binary;
    }
    const { execa } = await import('execa');
    const go = await execa('go', ['env', 'GOVERSION'], { reject: false });
    if (go.failed) {
      throw new GoPeerBuildError(
        'go-missing',
        `Go is not installed (or not on PATH): the ${this.name} interop peer is built from source with \`go build\`. Install Go 1.25 or later.`,
      );
    }

    mkdirSync(path.dirname(binary), { recursive: true });
    const temporary = `${binary}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    log(`building with ${go.stdout.trim()} into ${binary}`);
    const started = Date.now();
    const result = await execa('go', [...BUILD_ARGS, '-o', temporary, '.'], {
      cwd: this.moduleDir,
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
          `go build of the ${this.name} peer could not fetch its modules (Go module proxy refused or unreachable; GOPROXY=${process.env.GOPROXY ?? 'default'}) after ${seconds} s:\n${output}`,
        );
      }
      throw new GoPeerBuildError('compile', `go build of the ${this.name} peer failed after ${seconds} s:\n${output}`);
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

  /** The files the build depends on, in a stable order. */
  private sourceFiles(): string[] {
    const goFiles = readdirSync(this.moduleDir)
      .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))
      .sort();
    return ['go.mod', 'go.sum', ...goFiles];
  }
}
