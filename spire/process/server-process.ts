/**
 * A SPIRE server as a local process: config rendered from the topology model, started, awaited until
 * healthy, and driven through its CLI on the server API socket.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { serializeSpireConfig } from '../config/blocks';
import type { ServerPlacement } from '../config/placement';
import { renderServerConfig } from '../config/server-config';
import { installedSpire } from '../build/install';
import type { TrustDomain as TrustDomainModel } from '../../topology/model';
import { healthcheckPasses } from './healthcheck';
import { type LocalServerOptions, type LocalServerPorts, localServerPlacement } from './placement';
import { freePorts } from './ports';
import { SupervisedProcess } from './supervised-process';

export interface SpireServerOptions extends Omit<LocalServerOptions, 'ports'> {
  readonly td: TrustDomainModel;
  /** The server's state directory; created if missing. Keep it short unless `socketDir` is given: the API socket lives in it. */
  readonly dir: string;
  /** @default three free ports on 127.0.0.1 */
  readonly ports?: LocalServerPorts;
  /** @default 30 s */
  readonly readyTimeoutMs?: number;
}

export interface EntrySpec {
  readonly parentId: string;
  readonly spiffeId: string;
  /** `type:value`, e.g. `unix:uid:1000`. */
  readonly selectors: readonly string[];
  /** Lifetime of X.509-SVIDs issued for this entry, in seconds. */
  readonly x509SvidTtl?: number;
  /** Lifetime of JWT-SVIDs issued for this entry, in seconds. */
  readonly jwtSvidTtl?: number;
  /** Trust domains (`spiffe://td` or `td`) whose bundles the workload receives. */
  readonly federatesWith?: readonly string[];
  /** Tells apart the SVIDs of a workload that gets several (`X509Source.getX509Svid(hint)`). */
  readonly hint?: string;
  /** DNS names the X.509-SVIDs carry as SANs (the first also as common name), for clients that verify host names. */
  readonly dnsNames?: readonly string[];
}

/** A dynamic federation relationship, as `spire-server federation create` takes it. */
export interface FederationRelationship {
  readonly trustDomain: string;
  readonly bundleEndpointUrl: string;
  /** The ID the peer's https_spiffe bundle endpoint presents. */
  readonly endpointSpiffeId: string;
  /** A file with the peer's SPIFFE bundle, stored at once so entries can federate before the first fetch. */
  readonly trustDomainBundlePath: string;
}

const CLI_TIMEOUT_MS = 30_000;

export class SpireServerProcess {
  private constructor(
    readonly td: TrustDomainModel,
    readonly placement: ServerPlacement,
    private readonly supervised: SupervisedProcess,
  ) {}

  static async start({ td, dir, ports, readyTimeoutMs = 30_000, ...placementOptions }: SpireServerOptions): Promise<SpireServerProcess> {
    const { serverBin } = installedSpire();
    const placement = localServerPlacement(td, { ...placementOptions, dir, ports: ports ?? (await freeServerPorts()) });
    mkdirSync(placement.dataDir, { recursive: true });
    mkdirSync(path.dirname(placement.socketPath), { recursive: true });
    const configFile = path.join(dir, 'server.conf');
    writeFileSync(configFile, serializeSpireConfig(renderServerConfig(td, placement)));

    const supervised = await SupervisedProcess.start({
      name: `SPIRE server of ${td.name}`,
      command: serverBin,
      args: ['run', '-config', configFile],
      logFile: path.join(dir, 'server.log'),
      healthy: () => healthcheckPasses(serverBin, placement.socketPath),
      readyTimeoutMs,
    });
    return new SpireServerProcess(td, placement, supervised);
  }

  get socketPath(): string {
    return this.placement.socketPath;
  }

  get pid(): number | undefined {
    return this.supervised.pid;
  }

  get logFile(): string {
    return this.supervised.logFile;
  }

  /** A single-use join token whose agent also gets `spiffeId` (an alias to use as entries' parent ID). */
  async generateJoinToken(spiffeId: string): Promise<string> {
    const output = await this.cli(['token', 'generate', '-spiffeID', spiffeId, '-output', 'json']);
    const token = parseJson<{ value?: string }>(output, 'token generate').value;
    if (!token) throw new Error(`spire-server token generate printed no token: ${output}`);
    return token;
  }

  /** Creates a registration entry and returns its ID. */
  async createEntry(entry: EntrySpec): Promise<string> {
    const args = ['entry', 'create', '-output', 'json', '-parentID', entry.parentId, '-spiffeID', entry.spiffeId];
    for (const selector of entry.selectors) args.push('-selector', selector);
    for (const td of entry.federatesWith ?? []) args.push('-federatesWith', TrustDomain.parse(td).id);
    if (entry.x509SvidTtl !== undefined) args.push('-x509SVIDTTL', String(entry.x509SvidTtl));
    if (entry.jwtSvidTtl !== undefined) args.push('-jwtSVIDTTL', String(entry.jwtSvidTtl));
    if (entry.hint !== undefined) args.push('-hint', entry.hint);
    for (const name of entry.dnsNames ?? []) args.push('-dns', name);
    const output = await this.cli(args);
    const result = parseJson<{ results?: Array<{ status?: { code?: number; message?: string }; entry?: { id?: string } }> }>(
      output,
      'entry create',
    ).results?.[0];
    if (!result?.entry?.id || (result.status?.code ?? 0) !== 0) {
      throw new Error(`spire-server entry create for ${entry.spiffeId} failed: ${result?.status?.message ?? output}`);
    }
    return result.entry.id;
  }

  /** Creates an https_spiffe federation relationship seeded with the peer's bundle. */
  async createFederation(relationship: FederationRelationship): Promise<void> {
    await this.cli([
      'federation',
      'create',
      '-trustDomain',
      relationship.trustDomain,
      '-bundleEndpointURL',
      relationship.bundleEndpointUrl,
      '-bundleEndpointProfile',
      'https_spiffe',
      '-endpointSpiffeID',
      relationship.endpointSpiffeId,
      '-trustDomainBundlePath',
      relationship.trustDomainBundlePath,
      '-trustDomainBundleFormat',
      'spiffe',
    ]);
  }

  /** The server's own bundle, as PEM or as a SPIFFE bundle (JWKS). */
  bundleShow(format: 'pem' | 'spiffe'): Promise<string> {
    return this.cli(['bundle', 'show', '-format', format]);
  }

  /** Stores the bundle of a foreign trust domain (`td` as `name` or `spiffe://name`). */
  async bundleSet(td: string, bundle: string, format: 'pem' | 'spiffe' = 'spiffe'): Promise<void> {
    await this.cli(['bundle', 'set', '-id', TrustDomain.parse(td).id, '-format', format], bundle);
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void> {
    return this.supervised.stop();
  }

  kill(): Promise<void> {
    return this.supervised.kill();
  }

  /** Runs `spire-server <args> -socketPath <this server's socket>`; returns stdout, throws on a non-zero exit. */
  async cli(args: readonly string[], input?: string): Promise<string> {
    const { execa } = await import('execa');
    const command = args.slice(0, 2).join(' ');
    const result = await execa(installedSpire().serverBin, [...args, '-socketPath', this.socketPath], {
      reject: false,
      all: true,
      timeout: CLI_TIMEOUT_MS,
      ...(input === undefined ? {} : { input }),
    });
    if (result.exitCode !== 0) {
      throw new Error(`spire-server ${command} (${this.td.name}) failed with exit code ${result.exitCode}: ${result.all}`);
    }
    return result.stdout;
  }
}

async function freeServerPorts(): Promise<LocalServerPorts> {
  const [server, health, bundleEndpoint] = await freePorts(3);
  return { server: server!, health: health!, bundleEndpoint: bundleEndpoint! };
}

function parseJson<T>(text: string, command: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`spire-server ${command} printed no JSON: ${text}`);
  }
}
