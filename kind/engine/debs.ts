/**
 * Debian packages fetched with apt-get into a private apt state under the cache folder, and unpacked
 * with `dpkg-deb -x` into a folder of their own: nothing is installed on the system, the system's apt
 * sources and lists are neither read nor changed, and only Debian's mirror is asked.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { run, type Log } from './progress';

/** Debian's mirror; `DIRTK_DEBIAN_MIRROR` moves it (a local mirror, say). */
export const DEBIAN_MIRROR = process.env.DIRTK_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
/** The keyring of Debian's archive, from the `debian-archive-keyring` package. */
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export type Suite = 'bookworm' | 'trixie';

export interface DebRequest {
  /** The binary package name. */
  readonly name: string;
  /** The suite it comes from. */
  readonly suite: Suite;
}

/** The lines of the private `sources.list`: the suites the requests name, from `mirror`. */
export function sourcesList(suites: readonly Suite[], mirror = DEBIAN_MIRROR): string {
  return [...new Set(suites)]
    .sort()
    .map((suite) => `deb [signed-by=${DEBIAN_KEYRING}] ${mirror} ${suite} main`)
    .join('\n')
    .concat('\n');
}

/** apt-get options that make it use only the private state in `aptDir`. */
export function aptOptions(aptDir: string): string[] {
  return [
    ['Dir::Etc::sourcelist', path.join(aptDir, 'sources.list')],
    ['Dir::Etc::sourceparts', '-'],
    ['Dir::Etc::preferences', path.join(aptDir, 'preferences')],
    ['Dir::Etc::preferencesparts', '-'],
    ['Dir::State::Lists', path.join(aptDir, 'lists')],
    ['Dir::State::status', '/dev/null'],
    ['Dir::Cache', path.join(aptDir, 'cache')],
    ['APT::Get::List-Cleanup', '0'],
    ['APT::Sandbox::User', 'root'],
    ['Debug::NoLocking', '1'],
    ['Acquire::Languages', 'none'],
  ].flatMap(([key, value]) => ['-o', `${key}=${value}`]);
}

/** `apt-get download` arguments: `name/suite` selects the suite's version of each package. */
export function downloadArgs(requests: readonly DebRequest[]): string[] {
  return requests.map((request) => `${request.name}/${request.suite}`);
}

export interface FetchedDeb extends DebRequest {
  readonly file: string;
  readonly version: string;
}

/**
 * Downloads `requests` into `downloadDir` (apt-get update of the private state first, at most once a
 * day) and returns the files with their versions.
 */
export async function fetchDebs(aptDir: string, requests: readonly DebRequest[], downloadDir: string, log: Log): Promise<FetchedDeb[]> {
  const { writeFileSync } = await import('node:fs');
  for (const dir of [path.join(aptDir, 'lists', 'partial'), path.join(aptDir, 'cache', 'archives', 'partial'), downloadDir]) {
    mkdirSync(dir, { recursive: true });
  }
  const sources = sourcesList(requests.map((request) => request.suite));
  writeFileSync(path.join(aptDir, 'sources.list'), sources);
  writeFileSync(path.join(aptDir, 'preferences'), '');
  const options = aptOptions(aptDir);
  const suites = [...new Set(requests.map((request) => request.suite))];
  const listsFresh = listsAgeMs(path.join(aptDir, 'lists'), suites) < 24 * 3600 * 1000;
  if (!listsFresh) {
    log(`apt-get update (private state in ${aptDir}; ${sources.trim().split('\n').length} suite(s) from ${DEBIAN_MIRROR})`);
    await run('apt-get', [...options, '-q', 'update']);
  }
  await run('apt-get', [...options, '-q', 'download', ...downloadArgs(requests)], { cwd: downloadDir });
  const files = readdirSync(downloadDir).filter((file) => file.endsWith('.deb'));
  return requests.map((request) => {
    const file = files.find((candidate) => candidate.startsWith(`${request.name}_`));
    if (file === undefined) throw new Error(`apt-get download did not leave ${request.name} in ${downloadDir}`);
    return { ...request, file: path.join(downloadDir, file), version: decodeURIComponent(file.split('_')[1] ?? '') };
  });
}

/** Unpacks each package's files (not its maintainer scripts) into `root`. */
export async function extractDebs(debs: readonly FetchedDeb[], root: string): Promise<void> {
  mkdirSync(root, { recursive: true });
  for (const deb of debs) await run('dpkg-deb', ['-x', deb.file, root]);
}

/** The age of the oldest release file of `suites` in the private lists; infinite when one is missing. */
function listsAgeMs(listsDir: string, suites: readonly Suite[]): number {
  if (!existsSync(listsDir)) return Number.POSITIVE_INFINITY;
  const present = readdirSync(listsDir);
  const releases = suites.map((suite) => present.find((file) => file.endsWith(`_dists_${suite}_InRelease`)));
  if (releases.some((file) => file === undefined)) return Number.POSITIVE_INFINITY;
  return Date.now() - Math.min(...releases.map((file) => statSync(path.join(listsDir, file!)).mtimeMs));
}
