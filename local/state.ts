/**
 * The one folder local mode keeps its state in (`.local/` by default, git-ignored):
 * - `upstream-ca/<td>/`: the trust domains' upstream CAs, kept across runs;
 * - `run/`: everything of one run (SPIRE data, configs, logs, seeds, apiserver data, the apiserver's copy of
 *   Node), made afresh at each start;
 * - `local.lock`: who runs now, and the processes it started;
 * - `endpoints.json`: the addresses other tools connect to.
 * Unix sockets live in `run/sockets/` unless that path is too long for a socket address; then in a short
 * `/tmp/dirtk-<hash>/`, which `endpoints.json` names.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PROJECT_ROOT } from '../tools/paths';
import { socketPathFits } from '../spire/process/placement';

export const DEFAULT_STATE_DIR = path.join(PROJECT_ROOT, '.local');

export interface LocalStateLayout {
  readonly root: string;
  readonly lockFile: string;
  readonly endpointsFile: string;
  readonly upstreamCaDir: string;
  readonly runDir: string;
  /** The apiserver's own copy of the Node binary, which its registration entry selects by path. */
  readonly apiserverExecutable: string;
  /** Holds one folder per trust domain with its SPIRE server and agent sockets. */
  readonly socketDir: string;
}

/** The longest socket file name a domain's socket folder holds (the agent's). */
const LONGEST_SOCKET_NAME = 'workload.sock';

export function localStateLayout(root: string, trustDomains: readonly string[]): LocalStateLayout {
  const absolute = path.resolve(root);
  const runDir = path.join(absolute, 'run');
  const inState = path.join(runDir, 'sockets');
  const fits = trustDomains.every((td) => socketPathFits(path.join(inState, td), LONGEST_SOCKET_NAME));
  return {
    root: absolute,
    lockFile: path.join(absolute, 'local.lock'),
    endpointsFile: path.join(absolute, 'endpoints.json'),
    upstreamCaDir: path.join(absolute, 'upstream-ca'),
    runDir,
    apiserverExecutable: path.join(runDir, 'apiserver-bin', 'node'),
    socketDir: fits ? inState : path.join('/tmp', `dirtk-${createHash('sha256').update(absolute).digest('hex').slice(0, 12)}`),
  };
}

/** Whether a supervised process belongs to the instance of this state folder: its log is in the folder. */
export function startedHere(layout: LocalStateLayout, record: { readonly logFile: string }): boolean {
  return record.logFile.startsWith(layout.root + path.sep);
}
