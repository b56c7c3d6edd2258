/**
 * The Distribution registry as a local process on 127.0.0.1: configuration and JWKS rendered by
 * `config.ts`, started, awaited until `/v2/` answers, stopped.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SupervisedProcess } from '../spire/process/supervised-process';
import { ensureRegistry } from './build/install';
import { type RegistryConfigOptions, registryJwks, renderRegistryConfig } from './config';

export interface RegistryProcessOptions extends Omit<RegistryConfigOptions, 'storageDir' | 'jwksFile'> {
  /** Holds the config, the JWKS, the storage and the log. */
  readonly dir: string;
  /** @default 30 s */
  readonly readyTimeoutMs?: number;
}

export class RegistryProcess {
  private constructor(
    /** `http://host:port` */
    readonly url: string,
    readonly logFile: string,
    private readonly supervised: SupervisedProcess,
  ) {}

  static async start({ dir, readyTimeoutMs = 30_000, ...options }: RegistryProcessOptions): Promise<RegistryProcess> {
    const { registryBin } = await ensureRegistry();
    mkdirSync(dir, { recursive: true });
    const jwksFile = path.join(dir, 'jwks.json');
    const configFile = path.join(dir, 'config.yml');
    const config = renderRegistryConfig({ ...options, storageDir: path.join(dir, 'storage'), jwksFile });
    writeFileSync(jwksFile, registryJwks(options.trustedKeys));
    writeFileSync(configFile, config);
    const url = `http://${options.listen}`;
    const logFile = path.join(dir, 'registry.log');
    const supervised = await SupervisedProcess.start({
      name: `Distribution registry on ${options.listen}`,
      command: registryBin,
      args: ['serve', configFile],
      logFile,
      // Tracing off: nothing leaves this machine (Distribution's OpenTelemetry exporter would otherwise try OTLP).
      env: { ...process.env, OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: 'true' },
      healthy: async () => {
        try {
          // Token auth answers /v2/ with 401 and a Bearer challenge once it serves.
          return (await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) })).status === 401;
        } catch {
          return false;
        }
      },
      readyTimeoutMs,
    });
    return new RegistryProcess(url, logFile, supervised);
  }

  stop(): Promise<void> {
    return this.supervised.stop();
  }
}
