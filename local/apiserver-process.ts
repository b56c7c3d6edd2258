/**
 * The Directory apiserver as its own local process (so it can be killed and restarted), run from source
 * with tsx by its own copy of Node (the path its registration entry selects) and configured through its
 * environment variables; its records in the OCI registry beside it, whose tokens it signs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { APISERVER_ENVIRONMENT, apiserverEnvironment, type ApiServerSettings } from '@dirtk/directory-api/contract';
import { PROJECT_ROOT } from '../tools/paths';
import type { LocalApiServerPlan } from './plan';
import { LOOPBACK } from '../spire/process/ports';
import { SupervisedProcess } from '../spire/process/supervised-process';

const MAIN = path.join(PROJECT_ROOT, 'apps', 'apiserver', 'src', 'main.ts');

/** The apiserver's settings for a plan and a Workload API address. */
function apiServerSettings(plan: LocalApiServerPlan, workloadEndpoint: string) {
  return {
    listen: `${LOOPBACK}:${plan.grpcPort}`,
    httpListen: `${LOOPBACK}:${plan.httpPort}`,
    workloadEndpoint,
    svidHint: plan.svidHint,
    jwtAudiences: plan.jwtAudience,
    dataDir: path.join(plan.dir, 'data'),
    // A fixed secret keeps registry credentials verifiable across restarts.
    credentialsSecretFile: path.join(plan.dir, 'credentials.secret'),
    storeRegistryUrl: plan.registry.url,
    registryAddress: plan.registry.address,
    registryInsecure: 'true',
    registryService: plan.registry.service,
    registryTokenKeyFile: plan.registryTokenKeyFile,
    ...(plan.syncPeers.length > 0 && { syncPeers: plan.syncPeers.join(',') }),
  } satisfies ApiServerSettings;
}

/** The variables the apiserver reads: inherited from the caller's shell, they would leak into the local apiserver. */
const APISERVER_VARIABLES = new Set<string>(Object.values(APISERVER_ENVIRONMENT));

export class ApiServerProcess {
  private supervised: SupervisedProcess | undefined;

  private constructor(
    readonly plan: LocalApiServerPlan,
    private readonly env: NodeJS.ProcessEnv,
    private readonly readyTimeoutMs: number,
  ) {}

  /** Starts the apiserver and waits until it is ready (`/readyz`), which needs its SVID from `workloadEndpoint`. */
  static async start(plan: LocalApiServerPlan, workloadEndpoint: string, readyTimeoutMs = 60_000): Promise<ApiServerProcess> {
    const settings = apiServerSettings(plan, workloadEndpoint);
    mkdirSync(settings.dataDir, { recursive: true });
    if (!existsSync(settings.credentialsSecretFile)) writeFileSync(settings.credentialsSecretFile, randomBytes(32), { mode: 0o600 });
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('DIRTK_APISERVER_') && !APISERVER_VARIABLES.has(name)),
    );
    const apiserver = new ApiServerProcess(plan, { ...inherited, ...apiserverEnvironment(settings) }, readyTimeoutMs);
    await apiserver.run();
    return apiserver;
  }

  /** `host:port` of the gRPC (SPIFFE mTLS) listener. */
  get address(): string {
    return `${LOOPBACK}:${this.plan.grpcPort}`;
  }

  get pid(): number | undefined {
    return this.supervised?.pid;
  }

  get logFile(): string {
    return path.join(this.plan.dir, 'apiserver.log');
  }

  /** Stops the apiserver (if it runs) and starts it again on the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.run();
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    await this.supervised?.stop();
  }

  async kill(): Promise<void> {
    await this.supervised?.kill();
  }

  private async run(): Promise<void> {
    const readyz = `http://${LOOPBACK}:${this.plan.httpPort}/readyz`;
    this.supervised = await SupervisedProcess.start({
      name: `apiserver ${this.plan.spiffeId}`,
      // Its own copy of Node with tsx's loader, not the tsx CLI: the CLI would run the server in a child of its own.
      command: this.plan.executable,
      args: ['--import', 'tsx', MAIN],
      cwd: PROJECT_ROOT,
      env: this.env,
      logFile: this.logFile,
      healthy: async () => {
        try {
          return (await fetch(readyz, { signal: AbortSignal.timeout(2_000) })).ok;
        } catch {
          return false;
        }
      },
      readyTimeoutMs: this.readyTimeoutMs,
    });
  }
}
