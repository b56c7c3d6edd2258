/**
 * The Docker engine the Kind clusters run on. `ensureDockerEngine()` uses the engine that answers
 * `docker info`; when none answers and we may (root, no dockerd running), it starts one of our own:
 *
 * - dockerd 26 from Debian trixie's `docker.io` (it runs on bookworm's glibc). Bookworm's dockerd
 *   20.10 cannot start `--privileged` containers on a VM whose capability bounding set lacks
 *   CAP_SYS_RESOURCE ("unable to apply caps"); dockerd 23+ grants privileged containers the daemon's
 *   own bounding set instead of every capability the kernel knows;
 * - containerd 1.7 from trixie, runc and tini (`docker-init`) from bookworm (trixie's runc and tini
 *   need glibc 2.38); the docker CLI from trixie is used only when none is on PATH;
 * - unpacked into the cache folder, not installed: nothing on the system changes;
 * - started with `--ip-forward=false --ip-masq=false` (containers talk on their own bridges; nothing
 *   is routed or masqueraded off the machine), data-root, exec-root, pidfile and log under the cache
 *   folder, HTTP(S)_PROXY pointing at a port on 127.0.0.1 that refuses connections, so that any
 *   image pull fails at once instead of leaving the machine, and `--dns=127.0.0.1`, so that Docker's
 *   embedded DNS answers container names but never forwards a lookup off the machine (a pod asking
 *   for `ghcr.io` gets an error instead of a query to the host's resolver).
 *
 * `stopDockerEngine()` stops only an engine this module started (its pidfile, checked against the
 * process's command line).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CACHE_ROOT } from '../../tools/paths';
import { findOnPath } from '../tools';
import { extractDebs, fetchDebs, type DebRequest } from './debs';
import { run, tail, timed, type Log } from './progress';

/** The Debian packages of the engine, and the suite each comes from (see the module comment). */
export const ENGINE_PACKAGES: readonly DebRequest[] = [
  { name: 'docker.io', suite: 'trixie' },
  { name: 'docker-cli', suite: 'trixie' },
  { name: 'containerd', suite: 'trixie' },
  { name: 'runc', suite: 'bookworm' },
  { name: 'tini', suite: 'bookworm' },
];

/** The socket the docker CLI and kind use by default. */
export const DOCKER_SOCKET = '/var/run/docker.sock';
/** The port the engine's HTTP(S)_PROXY points at, if it refuses connections (else a free one is picked). */
export const REFUSING_PROXY_PORT = 9;

export class EngineError extends Error {
  override name = 'EngineError';
}

export interface EngineLayout {
  readonly dir: string;
  readonly aptDir: string;
  /** Where the packages are unpacked, keyed by the package set and this recipe's source. */
  readonly packagesDir: string;
  readonly root: string;
  readonly dockerd: string;
  readonly dockerCli: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** What we started: pid, proxy, versions (JSON). */
  readonly stateFile: string;
  readonly stampFile: string;
}

/** Hash of the package set and of the file that fetches and unpacks it. */
export function enginePackagesKey(packages: readonly DebRequest[] = ENGINE_PACKAGES): string {
  const hash = createHash('sha256').update(JSON.stringify(packages));
  hash.update(readFileSync(path.join(__dirname, 'debs.ts')));
  return hash.digest('hex').slice(0, 16);
}

export function engineLayout(cacheRoot = CACHE_ROOT, key = enginePackagesKey()): EngineLayout {
  const dir = path.join(cacheRoot, 'engine');
  const packagesDir = path.join(dir, 'packages', key);
  const root = path.join(packagesDir, 'root');
  return {
    dir,
    aptDir: path.join(dir, 'apt'),
    packagesDir,
    root,
    dockerd: path.join(root, 'usr', 'sbin', 'dockerd'),
    dockerCli: path.join(root, 'usr', 'bin', 'docker'),
    dataRoot: path.join(dir, 'data'),
    execRoot: path.join(dir, 'run'),
    pidFile: path.join(dir, 'dockerd.pid'),
    logFile: path.join(dir, 'dockerd.log'),
    stateFile: path.join(dir, 'engine.json'),
    stampFile: path.join(packagesDir, 'packages.json'),
  };
}

/** dockerd's command line. */
export function dockerdArgs(layout: EngineLayout, socket = DOCKER_SOCKET): string[] {
  return [
    `--host=unix://${socket}`,
    `--data-root=${layout.dataRoot}`,
    `--exec-root=${layout.execRoot}`,
    `--pidfile=${layout.pidFile}`,
    '--ip-forward=false',
    '--ip-masq=false',
    // Upstream DNS of the embedded resolver: the host's loopback, where nothing answers.
    '--dns=127.0.0.1',
    `--userland-proxy-path=${path.join(layout.root, 'usr', 'sbin', 'docker-proxy')}`,
  ];
}

/** dockerd's environment: our binaries first on PATH, and every proxy variable at the refusing port. */
export function dockerdEnv(layout: EngineLayout, proxyPort: number, basePath = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Record<string, string> {
  const proxy = `http://127.0.0.1:${proxyPort}`;
  return {
    PATH: [path.join(layout.root, 'usr', 'sbin'), path.join(layout.root, 'usr', 'bin'), basePath].join(':'),
    HOME: process.env.HOME ?? '/root',
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
  };
}

interface EngineState {
  readonly pid: number;
  readonly startedAt: string;
  readonly socket: string;
  readonly proxy: string;
  readonly packagesKey: string;
  readonly versions: Record<string, string>;
  readonly args: readonly string[];
}

export interface DockerEngine {
  /** `docker info` answers. */
  readonly serverVersion: string;
  /** The docker CLI to use (the one on PATH, else ours). */
  readonly docker: string;
  /** This module started it (now or earlier) and `stopDockerEngine()` will stop it. */
  readonly ours: boolean;
  /** The pid of our dockerd, when it is ours. */
  readonly pid?: number;
  readonly layout: EngineLayout;
}

export interface EngineStatus {
  readonly answering: boolean;
  readonly serverVersion?: string;
  readonly ours?: { readonly pid: number; readonly startedAt: string; readonly proxy: string };
  readonly layout: EngineLayout;
}

export interface EnsureEngineOptions {
  readonly log?: Log;
  /** Start an engine when none answers (default true). */
  readonly start?: boolean;
  readonly cacheRoot?: string;
}

const PREFIX = '[kind:engine]';

/** The engine that answers, starting ours when none does and we may. Does nothing when one answers. */
export async function ensureDockerEngine(options: EnsureEngineOptions = {}): Promise<DockerEngine> {
  const log = options.log ?? ((line: string) => console.log(line));
  const layout = engineLayout(options.cacheRoot);
  const docker = dockerCli(layout);
  const ours = ourRunningPid(layout);
  const version = docker === undefined ? undefined : await serverVersion(docker);
  if (version !== undefined) {
    log(`${PREFIX} Docker engine ${version} answers${ours !== undefined ? ` (ours, pid ${ours})` : ''}`);
    const startedWith = readState(layout)?.args;
    if (ours !== undefined && JSON.stringify(startedWith) !== JSON.stringify(dockerdArgs(layout))) {
      log(`${PREFIX} warning: our dockerd was started with other settings than these scripts use now; restart it (engine/main.ts stop, then start) when no cluster runs`);
    }
    return { serverVersion: version, docker: docker!, ours: ours !== undefined, ...(ours !== undefined && { pid: ours }), layout };
  }
  if (options.start === false) throw new EngineError('no Docker engine answers `docker info`');
  if (process.getuid?.() !== 0) {
    throw new EngineError('no Docker engine answers `docker info`, and only root can start one here: start Docker (or run as root to let dirtk start its own)');
  }
  if (ours !== undefined) {
    const waited = await waitForEngine(docker ?? layout.dockerCli, ours, 60_000);
    if (waited !== undefined) return { serverVersion: waited, docker: docker ?? layout.dockerCli, ours: true, pid: ours, layout };
    throw new EngineError(`our dockerd (pid ${ours}) runs but does not answer; its log (${layout.logFile}):\n${logTail(layout)}`);
  }
  const foreign = runningProcesses('dockerd');
  if (foreign.length > 0) {
    throw new EngineError(`a dockerd not started by dirtk runs (pid ${foreign.join(', ')}) but does not answer on ${DOCKER_SOCKET}; fix or stop it first`);
  }

  const versions = await ensurePackages(layout, log);
  const proxyPort = await refusingPort();
  const env = dockerdEnv(layout, proxyPort);
  if (findOnPath('iptables', env) === undefined) {
    throw new EngineError(`dockerd sets up its bridge networks with iptables, which is not on its PATH (${env.PATH}): install it (apt-get install -y iptables) and try again`);
  }
  return await timed(log, PREFIX, `starting dockerd ${versions['docker.io']} (data in ${layout.dir})`, async () => {
    for (const dir of [layout.dataRoot, layout.execRoot]) mkdirSync(dir, { recursive: true });
    rmSync(layout.pidFile, { force: true });
    const logFd = openSync(layout.logFile, 'a');
    const child = spawn(layout.dockerd, dockerdArgs(layout), {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env,
      cwd: layout.dir,
    });
    closeSync(logFd);
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new EngineError(`could not start ${layout.dockerd}`);
    const state: EngineState = {
      pid,
      startedAt: new Date().toISOString(),
      socket: DOCKER_SOCKET,
      proxy: `http://127.0.0.1:${proxyPort}`,
      packagesKey: path.basename(layout.packagesDir),
      versions,
      args: dockerdArgs(layout),
    };
    writeFileSync(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`);
    const cli = docker ?? layout.dockerCli;
    const answered = await waitForEngine(cli, pid, 90_000, () => exited !== undefined);
    if (answered === undefined) {
      throw new EngineError(`dockerd ${exited !== undefined ? `exited (code ${exited})` : 'did not answer within 90 s'}; its log (${layout.logFile}):\n${logTail(layout)}`);
    }
    const proxy = (await run(cli, ['info', '--format', '{{.HTTPProxy}} {{.HTTPSProxy}}'], { allowFailure: true })).stdout.trim();
    log(`${PREFIX} dockerd ${answered} answers on ${DOCKER_SOCKET} (pid ${pid}, pulls go to ${proxy || 'no proxy?'}, which refuses)`);
    return { serverVersion: answered, docker: cli, ours: true, pid, layout };
  });
}

/** Stops the engine this module started, and only that one. Returns whether it stopped one. */
export async function stopDockerEngine(options: { readonly log?: Log; readonly cacheRoot?: string } = {}): Promise<boolean> {
  const log = options.log ?? ((line: string) => console.log(line));
  const layout = engineLayout(options.cacheRoot);
  const pid = ourRunningPid(layout);
  if (pid === undefined) {
    log(`${PREFIX} no engine started by dirtk runs; nothing to stop`);
    rmSync(layout.stateFile, { force: true });
    return false;
  }
  const containerdPid = readPid(path.join(layout.execRoot, 'containerd', 'containerd.pid'));
  await timed(log, PREFIX, `stopping our dockerd (pid ${pid})`, async () => {
    process.kill(pid, 'SIGTERM');
    if (!(await waitForExit(pid, 60_000))) {
      log(`${PREFIX} dockerd (pid ${pid}) did not stop within 60 s; killing it`);
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 10_000);
    }
    // dockerd stops the containerd it started; if it was killed, that containerd is stopped here.
    if (containerdPid !== undefined && isAlive(containerdPid) && commandLine(containerdPid).includes(layout.execRoot)) {
      process.kill(containerdPid, 'SIGTERM');
      await waitForExit(containerdPid, 20_000);
    }
  });
  rmSync(layout.stateFile, { force: true });
  return true;
}

export async function engineStatus(options: { readonly cacheRoot?: string } = {}): Promise<EngineStatus> {
  const layout = engineLayout(options.cacheRoot);
  const docker = dockerCli(layout);
  const version = docker === undefined ? undefined : await serverVersion(docker);
  const pid = ourRunningPid(layout);
  const state = readState(layout);
  return {
    answering: version !== undefined,
    ...(version !== undefined && { serverVersion: version }),
    ...(pid !== undefined && state !== undefined && { ours: { pid, startedAt: state.startedAt, proxy: state.proxy } }),
    layout,
  };
}

/** The docker CLI on PATH, else the one we unpacked (if we have). */
function dockerCli(layout: EngineLayout): string | undefined {
  return findOnPath('docker') ?? (existsSync(layout.dockerCli) ? layout.dockerCli : undefined);
}

async function serverVersion(docker: string): Promise<string | undefined> {
  const result = await run(docker, ['info', '--format', '{{.ServerVersion}}'], { allowFailure: true, timeoutMs: 20_000 });
  const version = result.stdout.trim();
  return result.failed || version === '' ? undefined : version;
}

async function ensurePackages(layout: EngineLayout, log: Log): Promise<Record<string, string>> {
  const stamp = readJson<{ versions: Record<string, string> }>(layout.stampFile);
  if (stamp !== undefined && existsSync(layout.dockerd)) return stamp.versions;
  return await timed(log, PREFIX, `fetching ${ENGINE_PACKAGES.map((p) => `${p.name}/${p.suite}`).join(', ')} from Debian's mirror`, async () => {
    rmSync(layout.packagesDir, { recursive: true, force: true });
    const debs = await fetchDebs(layout.aptDir, ENGINE_PACKAGES, path.join(layout.packagesDir, 'debs'), log);
    await extractDebs(debs, layout.root);
    // dockerd looks for `docker-init` (used by `docker run --init`); Debian ships it as tini.
    const init = path.join(layout.root, 'usr', 'bin', 'docker-init');
    if (!existsSync(init)) symlinkSync('tini-static', init);
    rmSync(path.join(layout.packagesDir, 'debs'), { recursive: true, force: true });
    // Package sets of other keys are unused now (no engine of ours runs, or we would not be here).
    const all = path.dirname(layout.packagesDir);
    for (const other of readdirSync(all)) if (other !== path.basename(layout.packagesDir)) rmSync(path.join(all, other), { recursive: true, force: true });
    const versions = Object.fromEntries(debs.map((deb) => [deb.name, deb.version]));
    writeFileSync(layout.stampFile, `${JSON.stringify({ packages: ENGINE_PACKAGES, versions }, null, 2)}\n`);
    return versions;
  });
}

/** A port on 127.0.0.1 that refuses connections: REFUSING_PROXY_PORT if it does, else a free one. */
export async function refusingPort(): Promise<number> {
  if (await refuses(REFUSING_PROXY_PORT)) return REFUSING_PROXY_PORT;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    if (port > 0 && (await refuses(port))) return port;
  }
  throw new EngineError('found no port on 127.0.0.1 that refuses connections for the engine proxy');
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

async function waitForEngine(docker: string, pid: number, timeoutMs: number, gaveUp: () => boolean = () => false): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gaveUp() && isAlive(pid)) {
    const version = existsSync(DOCKER_SOCKET) ? await serverVersion(docker) : undefined;
    if (version !== undefined) return version;
    await sleep(500);
  }
  return undefined;
}

/** The pid of the dockerd we started, if it still runs (pidfile and state agree, command line is ours). */
function ourRunningPid(layout: EngineLayout): number | undefined {
  const state = readState(layout);
  const pid = state?.pid ?? readPid(layout.pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  const cmdline = commandLine(pid);
  return cmdline.includes('dockerd') && cmdline.includes(`--data-root=${layout.dataRoot}`) ? pid : undefined;
}

function readState(layout: EngineLayout): EngineState | undefined {
  return readJson<EngineState>(layout.stateFile);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Pids of running processes whose name is `name` (from /proc/<pid>/comm). */
function runningProcesses(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(250);
  }
  return !isAlive(pid);
}

function logTail(layout: EngineLayout): string {
  try {
    return tail(readFileSync(layout.logFile, 'utf8'), 30);
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
