/**
 * dirctl's identity and its connection to the apiserver: the X.509-SVID and bundles from the
 * Workload API (waiting for them until the deadline, as a pod's first seconds may need), a
 * JWT-SVID in jwt mode, and a server pinned by ID or trust domain.
 */
import { type ChannelCredentials, credentials, status as Status } from '@grpc/grpc-js';
import { authorizeId, authorizeMemberOf, type Authorizer, jwtBearerCallCredentials, spiffeChannelCredentials } from '@dirtk/spiffe/spiffetls';
import type { X509Bundle, X509BundleSource } from '@dirtk/spiffe/bundle';
import type { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { type FetchedJwtSvid, WorkloadApiClient, X509Source } from '@dirtk/spiffe/workloadapi';
import type { X509Svid } from '@dirtk/spiffe/x509svid';
import { DirectoryClient } from './directory-client';
import { isServiceError, SetupError } from './errors';
import type { ServerPin, Settings } from './options';

export interface Connection {
  readonly client: DirectoryClient;
  /** A call's failure as the user should see it: a refused server is a SetupError rather than UNAVAILABLE. */
  explain(error: unknown): unknown;
  close(): void;
}

export async function connect(settings: Settings, deadline: Date): Promise<Connection> {
  const endpoint = settings.workloadEndpoint;
  if (endpoint === undefined) {
    throw new SetupError(
      'no Workload API address to get an identity from: pass --spiffe-socket or set SPIFFE_ENDPOINT_SOCKET (e.g. unix:///run/spire/agent-sockets/api.sock)',
    );
  }
  const source = await X509Source.create({ endpoint, readyTimeoutMs: millisecondsUntil(deadline) }).catch((error: Error) => {
    throw new SetupError(`no identity: ${error.message}`);
  });
  try {
    const hint = settings.svidHint;
    const svid = selectSvid(source, hint);
    const jwt =
      settings.jwtAudience === undefined ? undefined : await fetchJwtSvid(endpoint, settings.jwtAudience, hint === undefined ? undefined : svid.id, deadline);
    const caller = jwt?.id ?? svid.id;
    const check = new ServerCheck(source, pinAuthorizer(settings.serverPin, caller.trustDomain));
    const channel: ChannelCredentials = jwt
      ? credentials.combineChannelCredentials(
          spiffeChannelCredentials({ source: check, authorizer: check.authorizer, presentCertificate: false }),
          jwtBearerCallCredentials(async () => jwt.token),
        )
      : spiffeChannelCredentials({
          source: { getX509Bundle: check.getX509Bundle, getX509Svid: () => selectSvid(source, hint) },
          authorizer: check.authorizer,
        });
    const client = new DirectoryClient(settings.server, channel, deadline);
    return {
      client,
      explain(error) {
        if (!isServiceError(error) || error.code !== Status.UNAVAILABLE) return error;
        if (check.refusal !== undefined) return new SetupError(`the server at ${settings.server} was refused: ${check.refusal}`);
        if (check.accepted === undefined) return error;
        const why = `${check.accepted} closed the connection after the TLS handshake, as a server does with a client whose identity, here ${caller}, it does not accept`;
        return Object.assign(error, { details: `${error.details} (${why})` });
      },
      close() {
        client.close();
        source.close();
      },
    };
  } catch (error) {
    source.close();
    throw error;
  }
}

function selectSvid(source: X509Source, hint: string | undefined): X509Svid {
  try {
    return source.getX509Svid(hint);
  } catch (error) {
    const held = source.getX509Svids().map((svid) => `${svid.id}${svid.hint === undefined ? ' (no hint)' : ` (hint "${svid.hint}")`}`);
    throw new SetupError(`${(error as Error).message}; this workload has: ${held.join(', ')}`);
  }
}

/** The JWT-SVID of `spiffeId`, or of the workload's default identity. */
async function fetchJwtSvid(endpoint: string, audience: string, spiffeId: SpiffeId | undefined, deadline: Date): Promise<FetchedJwtSvid> {
  const workloadApi = new WorkloadApiClient({ endpoint, callTimeoutMs: millisecondsUntil(deadline) });
  try {
    // The client rejects responses without SVIDs, so there is always a first one.
    const [jwt] = await workloadApi.fetchJwtSvids(audience, spiffeId);
    return jwt!;
  } catch (error) {
    throw new SetupError(`no JWT-SVID for audience "${audience}"${spiffeId ? ` and ${spiffeId}` : ''}: ${(error as Error).message}`);
  } finally {
    workloadApi.close();
  }
}

function pinAuthorizer(pin: ServerPin, ownTrustDomain: TrustDomain): Authorizer {
  if (pin && 'id' in pin) return authorizeId(pin.id);
  return authorizeMemberOf(pin?.trustDomain ?? ownTrustDomain);
}

/**
 * The server check, remembering why it refused a server. grpc-js reports a refused connection as a
 * plain UNAVAILABLE, which scripts may retry; a server that is not the expected one will not become
 * it on retry, so dirctl reports it as a setup failure.
 */
class ServerCheck implements X509BundleSource {
  refusal: string | undefined;
  /** The last server that passed. */
  accepted: SpiffeId | undefined;

  constructor(private readonly bundles: X509BundleSource, private readonly pin: Authorizer) {}

  readonly getX509Bundle = (trustDomain: TrustDomain): X509Bundle | undefined => {
    const bundle = this.bundles.getX509Bundle(trustDomain);
    if (!bundle) {
      this.refusal = `its SPIFFE ID is in trust domain "${trustDomain}", which this workload holds no bundle for (neither its own nor federated)`;
    }
    return bundle;
  };

  readonly authorizer: Authorizer = (id, verifiedChain) => {
    try {
      this.pin(id, verifiedChain);
      this.accepted = id;
    } catch (error) {
      this.refusal = (error as Error).message;
      throw error;
    }
  };
}

function millisecondsUntil(deadline: Date): number {
  return Math.max(1, deadline.getTime() - Date.now());
}
