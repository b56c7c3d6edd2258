/** `endpoints.json`: where a running local mode can be reached, for dirctl, tests and other tools. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SVID_HINTS } from './entries';
import type { LocalDomainPlan } from './plan';
import { LOOPBACK } from '../spire/process/ports';
import type { LocalStateLayout } from './state';

export interface LocalEndpoints {
  /** The instance that serves them. */
  readonly pid: number;
  readonly stateDir: string;
  /** Where the Unix sockets are: in the state folder, or under /tmp when its path is too long. */
  readonly socketDir: string;
  readonly trustDomains: Readonly<Record<string, LocalDomainEndpoints>>;
}

export interface LocalDomainEndpoints {
  /** `unix://…`, for `SPIFFE_ENDPOINT_SOCKET`. */
  readonly workloadApi: string;
  /** For `spire-server … -socketPath`. */
  readonly spireServerSocket: string;
  /** Present when the domain federates: `https://127.0.0.1:<port>`, profile https_spiffe. */
  readonly bundleEndpoint?: string;
  /** The root of the domain's trust bundle (PEM), the same one its peers were seeded with. */
  readonly upstreamCaCertificate: string;
  /** dirctl's identity in this domain: the only SVID a process of this user gets; the hint is optional. */
  readonly dirctl: { readonly spiffeId: string; readonly svidHint: string };
  /**
   * With the apiserver: `http://127.0.0.1:<port>`, the OCI registry its records are in. It honours only
   * bearer tokens from the apiserver's token service (credentials from RequestRegistryCredentials).
   */
  readonly registry?: string;
  readonly apiserver?: {
    /** `host:port` of the gRPC listener (SPIFFE mutual TLS, or a JWT-SVID for `jwtAudience`). */
    readonly address: string;
    readonly spiffeId: string;
    /** The DNS name its SVID carries: what a client verifying host names dialling `address` verifies against. */
    readonly tlsServerName: string;
    readonly http: string;
    readonly jwtAudience: string;
  };
}

/** What `localEndpoints` reads of a started trust domain. */
export interface StartedDomain {
  readonly plan: LocalDomainPlan;
  readonly server: { readonly socketPath: string };
  readonly agent: { readonly endpoint: string };
  readonly registry?: { readonly url: string };
  readonly apiserver?: { readonly address: string };
}

export function localEndpoints(layout: LocalStateLayout, domains: readonly StartedDomain[]): LocalEndpoints {
  return {
    pid: process.pid,
    stateDir: layout.root,
    socketDir: layout.socketDir,
    trustDomains: Object.fromEntries(
      domains.map(({ plan, server, agent, registry, apiserver }) => [
        plan.td.name,
        {
          workloadApi: agent.endpoint,
          spireServerSocket: server.socketPath,
          ...(plan.td.bundleEndpoint?.url !== undefined && { bundleEndpoint: plan.td.bundleEndpoint.url }),
          upstreamCaCertificate: path.join(plan.upstreamCaDir, 'tls.crt'),
          dirctl: { spiffeId: plan.td.directoryClient.spiffeId, svidHint: SVID_HINTS.dirctl },
          ...(registry && { registry: registry.url }),
          ...(plan.apiserver &&
            apiserver && {
              apiserver: {
                address: apiserver.address,
                spiffeId: plan.apiserver.spiffeId,
                tlsServerName: plan.apiserver.tlsServerName,
                http: `${LOOPBACK}:${plan.apiserver.httpPort}`,
                jwtAudience: plan.apiserver.jwtAudience,
              },
            }),
        },
      ]),
    ),
  };
}

export function writeEndpoints(file: string, endpoints: LocalEndpoints): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(endpoints, null, 2)}\n`);
  renameSync(temporary, file);
}

export function readEndpoints(file: string): LocalEndpoints {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalEndpoints;
  } catch (error) {
    throw new Error(`cannot read the local-mode endpoints ${file} (${(error as Error).message}); is \`npm start\` running?`);
  }
}
