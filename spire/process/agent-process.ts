/**
 * A SPIRE agent as a local process: attests once with a join token, serves the Workload API on a
 * Unix socket in its state directory, and keeps its SVID on disk so that a restart needs no new token.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderAgentConfig } from '../config/agent-config';
import { serializeSpireConfig } from '../config/blocks';
import type { AgentPlacement } from '../config/placement';
import { installedSpire } from '../build/install';
import type { TrustDomain } from '../../topology/model';
import { healthcheckPasses } from './healthcheck';
import { localAgentPlacement } from './placement';
import { freePorts } from './ports';
import { SupervisedProcess } from './supervised-process';

export interface SpireAgentOptions {
  readonly td: TrustDomain;
  /** The agent's state directory; created if missing. Keep it short unless `socketDir` is given: the Workload API socket lives in it. */
  readonly dir: string;
  /** @default dir */
  readonly socketDir?: string;
  readonly serverPort: number;
  /** The server's bundle (`bundle show -format pem`), trusted for the first connection. */
  readonly trustBundlePem: string;
  /** A token from `SpireServerProcess.generateJoinToken`; used once, for the first attestation. */
  readonly joinToken: string;
  /** @default a free port on 127.0.0.1 */
  readonly healthPort?: number;
  /** @default 30 s */
  readonly readyTimeoutMs?: number;
}

export class SpireAgentProcess {
  private supervised: SupervisedProcess | undefined;

  private constructor(
    readonly td: TrustDomain,
    readonly placement: AgentPlacement,
    private readonly configFile: string,
    private readonly readyTimeoutMs: number,
  ) {}

  static async start(options: SpireAgentOptions): Promise<SpireAgentProcess> {
    const { td, dir, socketDir, serverPort, trustBundlePem, joinToken, readyTimeoutMs = 30_000 } = options;
    const healthPort = options.healthPort ?? (await freePorts(1))[0]!;
    const placement = localAgentPlacement(td, { dir, serverPort, healthPort, ...(socketDir !== undefined && { socketDir }) });
    mkdirSync(placement.dataDir, { recursive: true });
    mkdirSync(path.dirname(placement.socketPath), { recursive: true });
    writeFileSync(placement.trustBundlePath, trustBundlePem);
    const configFile = path.join(dir, 'agent.conf');
    writeFileSync(configFile, serializeSpireConfig(renderAgentConfig(td, placement)));

    const agent = new SpireAgentProcess(td, placement, configFile, readyTimeoutMs);
    await agent.run(['-joinToken', joinToken]);
    return agent;
  }

  get socketPath(): string {
    return this.placement.socketPath;
  }

  /** The Workload API address for clients and `SPIFFE_ENDPOINT_SOCKET`. */
  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  get pid(): number | undefined {
    return this.supervised?.pid;
  }

  get logFile(): string {
    return path.join(path.dirname(this.configFile), 'agent.log');
  }

  /** Stops the agent and starts it again on the same data directory, reusing its stored SVID. */
  async restart(): Promise<void> {
    await this.stop();
    await this.run([]);
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    await this.supervised?.stop();
  }

  async kill(): Promise<void> {
    await this.supervised?.kill();
  }

  private async run(extraArgs: readonly string[]): Promise<void> {
    const { agentBin } = installedSpire();
    this.supervised = await SupervisedProcess.start({
      name: `SPIRE agent of ${this.td.name}`,
      command: agentBin,
      args: ['run', '-config', this.configFile, ...extraArgs],
      logFile: this.logFile,
      healthy: () => healthcheckPasses(agentBin, this.socketPath),
      readyTimeoutMs: this.readyTimeoutMs,
    });
  }
}
