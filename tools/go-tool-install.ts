/**
 * Builds pinned Go programs into the cache, the way dirtk builds everything it runs: `go install -trimpath
 * … tool` in a Go module of the repository that pins them (a `tool` directive), through the Go module proxy,
 * into `<cache>/<name>/<key>/bin`. The key hashes the pinning modules' go.mod and go.sum and the build
 * settings, so a new pin set gets a new folder and an unchanged one is never rebuilt.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { timed } from './progress';

export interface GoToolBuild {
  /** What the log says it builds, e.g. `oras v1.3.6`. */
  readonly what: string;
  /** The Go module (in the repository) whose `tool` directive names the programs. */
  readonly moduleDir: string;
  /** Flags after `go install -trimpath`. */
  readonly flags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Each program `go install` writes, by the name it writes it under, and where it is installed. */
  readonly outputs: Readonly<Record<string, string>>;
}

/** `sha256` over every module's go.mod and go.sum, then `settings`: the whole identity of a build. */
export function goToolDigest(moduleDirs: readonly string[], settings: string): string {
  const hash = createHash('sha256');
  for (const dir of moduleDirs) hash.update(readFileSync(path.join(dir, 'go.mod'))).update(readFileSync(path.join(dir, 'go.sum')));
  return hash.update(settings).digest('hex');
}

/** Where a build whose stamp is `stamp` installs: the stamp names the build, its folder the key. */
export class GoToolInstall {
  constructor(
    /** `<cache>/<name>/<key>`. */
    readonly dir: string,
    /** Written when a build completes; a folder whose stamp differs is built again. */
    private readonly stamp: string,
  ) {}

  /** Whether the build completed here and every `binaries` file exists. */
  isComplete(binaries: readonly string[]): boolean {
    return this.readStamp() === this.stamp && binaries.every((file) => existsSync(file));
  }

  /**
   * Runs each build into a staging folder of this process (parallel test workers may build at once), then
   * moves every output into place (each rename is atomic) and writes the stamp. `fail` makes the error.
   */
  async build(builds: readonly GoToolBuild[], log: (line: string) => void, fail: (message: string) => Error): Promise<void> {
    const { execa } = await import('execa');
    mkdirSync(path.join(this.dir, 'bin'), { recursive: true });
    const staging = path.join(this.dir, `staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    for (const build of builds) {
      const result = await timed(log, 'building', `${build.what} with go install (the first build takes a few minutes)`, () =>
        execa('go', ['install', '-trimpath', ...build.flags, 'tool'], {
          cwd: build.moduleDir,
          env: { GOBIN: staging, ...build.env },
          reject: false,
          all: true,
        }),
      );
      if (result.failed) throw fail(`go install of ${build.what} (in ${build.moduleDir}, GOPROXY=${process.env.GOPROXY ?? 'unset'}) failed:\n${result.all}`);
    }
    for (const build of builds) for (const [written, target] of Object.entries(build.outputs)) renameSync(path.join(staging, written), target);
    rmSync(staging, { recursive: true, force: true });
    writeFileSync(path.join(this.dir, 'install.json'), JSON.stringify({ modules: this.stamp }, null, 2));
  }

  private readStamp(): string | undefined {
    try {
      return (JSON.parse(readFileSync(path.join(this.dir, 'install.json'), 'utf8')) as { modules?: string }).modules;
    } catch {
      return undefined;
    }
  }
}
