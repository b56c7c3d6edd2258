/**
 * The Directory apiserver, assembled: identity from the Workload API, the store, the policy, the
 * gRPC services behind SPIFFE mutual TLS, and the plain-HTTP health and metrics endpoint.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DIRECTORY_METHODS } from './api/services';
import { AuthzEngine, type Authorizer, defaultPolicy, PolicyFile, validatePolicy } from './authz';
import type { ApiServerConfig } from './config';
import { serveHttpEndpoint } from './observability/http-endpoint';
import type { Logger } from './observability/logger';
import { DirectoryMetrics } from './observability/metrics';
import { spiffeCallAuthorizer } from './security/call-authorizer';
import { createDirectoryServer } from './server';
import { REGISTRY_TOKEN_PATH } from '@dirtk/directory-api/contract';
import { RegistryCredentialIssuer } from './services/registry-credentials';
import { type RegistryTokenKey, registryTokenKey, RegistryTokenService } from './services/registry-token-service';
import type { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { SpiffeServer } from '@dirtk/spiffe/spiffetls';
import { JwtSource, X509Source } from '@dirtk/spiffe/workloadapi';
import type { X509Svid } from '@dirtk/spiffe/x509svid';
import { OciRecordStore } from './store/oci/oci-records';
import { signedTokens } from './store/oci/token-sources';
import { openStore } from './store/store';
import { spiffePeerCredentials } from './sync/remote-directory';

export interface RunningApiServer {
  /** The bound gRPC port. */
  readonly port: number;
  readonly httpPort: number;
  /** The server's own SPIFFE ID, from its SVID. */
  readonly spiffeId: string;
  readonly trustDomain: TrustDomain;
  /** Stops accepting calls, lets calls in flight finish, and releases the Workload API. */
  close(): Promise<void>;
}

export async function startApiServer(config: ApiServerConfig, logger: Logger): Promise<RunningApiServer> {
  const metrics = new DirectoryMetrics();
  let ready = false;
  const credentials = await credentialsSecret(config, logger);
  const tokenKey = config.registry.tokenKeyFile === undefined ? undefined : registryTokenKey(await readFile(config.registry.tokenKeyFile), config.registry.tokenKeyFile);
  const tokenService = registryTokenService(config, tokenKey, credentials, logger);
  const http = await serveHttpEndpoint(metrics.registry, {
    ...config.httpListen,
    ready: () => ready,
    routes: tokenService ? { [REGISTRY_TOKEN_PATH]: (request, response) => tokenService.handle(request, response) } : {},
  });
  const closers: Array<() => unknown> = [() => http.close()];
  const close = async () => {
    ready = false;
    for (const closer of closers.reverse()) await closer();
  };
  try {
    logger.info('waiting for an X.509-SVID from the Workload API', { endpoint: config.workloadEndpoint ?? process.env.SPIFFE_ENDPOINT_SOCKET });
    const x509 = await X509Source.create({ endpoint: config.workloadEndpoint, readyTimeoutMs: config.readyTimeoutMs });
    closers.push(() => x509.close());
    const serving = {
      getX509Svid: () => x509.getX509Svid(config.svidHint),
      getX509Bundle: (td: TrustDomain) => x509.getX509Bundle(td),
    };
    const own = await svidWithHint(x509, config.svidHint, config.readyTimeoutMs);
    metrics.setSvidExpiry(own.expiresAt);
    x509.on('error', (error) => logger.warn('workload API', { error: error.message }));
    x509.on('update', ({ svidsChanged, bundles }) => {
      if (svidsChanged) {
        try {
          const svid = serving.getX509Svid();
          metrics.setSvidExpiry(svid.expiresAt);
          logger.info('X.509-SVID rotated', { spiffe_id: svid.id.toString(), expires_at: svid.expiresAt.toISOString() });
        } catch (error) {
          logger.error('X.509-SVID withdrawn; new connections are refused until one is issued', { error: (error as Error).message });
        }
      }
      logger.info('trust bundles updated', { ...bundles });
    });

    const jwt = config.jwtAudiences.length > 0 ? await JwtSource.create({ endpoint: config.workloadEndpoint, readyTimeoutMs: config.readyTimeoutMs }) : undefined;
    if (jwt) closers.push(() => jwt.close());

    const policy = await openPolicy(config, own.id.trustDomain, logger);
    if (policy instanceof PolicyFile) closers.push(() => policy.close());

    const store = await openStore(config.dataDir, { ...(config.storeRegistryUrl !== undefined && tokenKey && { records: registryRecords(config, config.storeRegistryUrl, tokenKey, own.id.toString()) }) });
    let spiffeServer: SpiffeServer | undefined;
    const { server, health, syncWorker } = createDirectoryServer({
      store,
      sync: {
        peers: config.sync.peers,
        requestCredentials: spiffePeerCredentials(serving),
        retry: { maxAttempts: config.sync.maxAttempts, baseDelayMs: config.sync.retryDelayMs },
      },
      logger,
      metrics,
      authorize: spiffeCallAuthorizer({
        peerOf: (call) => (config.x509 ? spiffeServer?.peerOf(call) : undefined),
        ...(jwt && { jwt: { bundles: jwt, audiences: config.jwtAudiences } }),
        policy,
        logger,
        metrics,
      }),
      registry: {
        address: config.registry.address,
        insecure: config.registry.insecure,
        credentials: new RegistryCredentialIssuer({ secret: credentials, repository: config.registry.repository }),
      },
    });
    spiffeServer = new SpiffeServer(server, {
      source: serving,
      allowClientsWithoutCertificate: jwt !== undefined,
      onRejected: (reason, remote) => logger.warn('connection refused', { reason, remote }),
    });
    const port = await spiffeServer.listen(config.listen.port, config.listen.host);
    const tls = spiffeServer;
    closers.push(() => tls.close(), () => health.shutdown());
    await syncWorker.start();
    closers.push(() => syncWorker.close());
    ready = true;
    logger.info('serving', {
      spiffe_id: own.id.toString(),
      listen: `${config.listen.host}:${port}`,
      http: `${config.httpListen.host}:${http.port}`,
      authn: [...(config.x509 ? ['x509'] : []), ...(jwt ? ['jwt'] : [])],
      policy: config.policyFile ?? 'built-in default',
      store: config.storeRegistryUrl === undefined ? config.dataDir : `${config.storeRegistryUrl}/v2/${config.registry.repository}`,
      sync_peers: config.sync.peers.addresses,
      registry_token_service: tokenService ? `http://${config.httpListen.host}:${http.port}${REGISTRY_TOKEN_PATH}` : 'off',
    });
    return { port, httpPort: http.port, spiffeId: own.id.toString(), trustDomain: own.id.trustDomain, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The OCI registry store, with tokens the apiserver signs for itself (`loadConfig` insists on a token key with a registry store). */
function registryRecords(config: ApiServerConfig, registryUrl: string, key: RegistryTokenKey, spiffeId: string): OciRecordStore {
  return new OciRecordStore({
    registryUrl,
    repository: config.registry.repository,
    tokens: signedTokens({ key, service: config.registry.service, repository: config.registry.repository, spiffeId }),
  });
}

/** The SVID to serve with; the hinted one may arrive in a later update than the first. */
function svidWithHint(source: X509Source, hint: string | undefined, timeoutMs: number): Promise<X509Svid> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      try {
        resolve(source.getX509Svid(hint));
        return true;
      } catch {
        return false;
      }
    };
    if (attempt()) return;
    const giveUp = () => {
      source.off('update', onUpdate);
      reject(new Error(`no X.509-SVID with hint ${JSON.stringify(hint)} within ${timeoutMs} ms; the workload has ${source.getX509Svids().map((svid) => `${svid.id} (hint ${JSON.stringify(svid.hint ?? '')})`).join(', ') || 'none'}`));
    };
    const timer = timeoutMs === Infinity ? undefined : setTimeout(giveUp, timeoutMs);
    const onUpdate = () => {
      if (!attempt()) return;
      if (timer) clearTimeout(timer);
      source.off('update', onUpdate);
    };
    source.on('update', onUpdate);
  });
}

async function openPolicy(config: ApiServerConfig, ownTrustDomain: TrustDomain, logger: Logger): Promise<Authorizer & { close?(): void }> {
  if (!config.policyFile) {
    const policy = defaultPolicy();
    validatePolicy(policy, DIRECTORY_METHODS);
    return new AuthzEngine(policy, ownTrustDomain);
  }
  return PolicyFile.open({
    path: config.policyFile,
    ownTrustDomain,
    knownMethods: DIRECTORY_METHODS,
    onReload: () => logger.info('authorization policy reloaded', { path: config.policyFile }),
    onError: (error) => logger.error('authorization policy change rejected', { error: error.message }),
  });
}

async function credentialsSecret(config: ApiServerConfig, logger: Logger): Promise<Uint8Array> {
  const file = config.registry.credentialsSecretFile;
  if (file) return (await readFile(file)).subarray(0);
  logger.warn('no credentials secret file: registry credentials are signed with a key made at start-up and stop verifying after a restart');
  return randomBytes(32);
}

/** The registry token service, when a signing key is configured; read once at start (rotation restarts the apiserver, see the README). */
function registryTokenService(config: ApiServerConfig, key: RegistryTokenKey | undefined, credentialsSecret: Uint8Array, logger: Logger): RegistryTokenService | undefined {
  if (!key) {
    logger.warn('no registry token key file: the registry token service is off, so no registry honours the credentials RequestRegistryCredentials issues');
    return undefined;
  }
  logger.info('registry token service on', { kid: key.kid, service: config.registry.service, ttl_seconds: config.registry.tokenTtlSeconds });
  return new RegistryTokenService({
    credentialsSecret,
    signingKey: key,
    service: config.registry.service,
    ttlSeconds: config.registry.tokenTtlSeconds,
    onDecision: (decision) =>
      (decision.status === 200 ? logger.info : logger.warn).call(logger, 'registry token', {
        status: decision.status,
        username: decision.username,
        requested: decision.requested,
        granted: decision.granted.map((access) => `${access.type}:${access.name}:${access.actions.join(',')}`),
        reason: decision.reason,
      }),
  });
}
