/**
 * Local mode: a federation of trust domains as processes on 127.0.0.1. Per trust domain a SPIRE server
 * (configs from the same renderer as on Kubernetes, a `disk` UpstreamAuthority with the domain's upstream
 * CA, an https_spiffe bundle endpoint) and a join-token agent with the unix workload attestor; federation
 * relationships created through the server API and seeded with the peers' upstream roots (what a
 * ClusterFederatedTrustDomain with `trustDomainBundle` does on Kubernetes); registration entries for the
 * apiserver (selected by its own copy of Node) and dirctl (any other process of the user); then, where the
 * domain runs a Directory, its OCI registry (trusting only its apiserver's token key) and its apiserver.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXAMPLE_FEDERATION } from '../topology/example';
import { bootstrapFederation } from '../federation/bootstrap';
import { loadOrCreateUpstreamCas } from '../federation/ca-folder';
import type { Topology } from '../topology/model';
import { resolveTopology } from '../topology/resolve';
import type { TopologySpec } from '../topology/spec';
import { RegistryProcess } from '../registry/process';
import { prepareApiServerExecutable } from './apiserver-executable';
import { ensureRegistryTokenKey } from '../registry/token-key';
import { ApiServerProcess } from './apiserver-process';
import { localEndpoints, writeEndpoints, type LocalEndpoints } from './endpoints';
import { InstanceLock } from './instance-lock';
import { checkRunsLocally, type LocalDomainPlan, type LocalDomainPorts, localTopology, planLocalFederation } from './plan';
import { type Progress, SILENT_PROGRESS } from './progress';
import { SpireAgentProcess } from '../spire/process/agent-process';
import { freePorts } from '../spire/process/ports';
import { SpireServerProcess } from '../spire/process/server-process';
import { watchSupervisedProcesses } from '../spire/process/supervised-process';
import { DEFAULT_STATE_DIR, type LocalStateLayout, localStateLayout, startedHere } from './state';

export interface LocalFederationOptions {
  /** @default EXAMPLE_FEDERATION */
  readonly spec?: TopologySpec;
  /** @default `.local/` in the project */
  readonly stateDir?: string;
  /** @default silent */
  readonly progress?: Progress;
  /** Lifetime of the workloads' X.509-SVIDs in seconds. @default each server's x509SvidTtl */
  readonly x509SvidTtl?: number;
}

export interface LocalDomain {
  readonly plan: LocalDomainPlan;
  readonly server: SpireServerProcess;
  readonly agent: SpireAgentProcess;
  /** With the apiserver: the registry its records are in. */
  readonly registry?: RegistryProcess;
  readonly apiserver?: ApiServerProcess;
}

export class LocalFederation {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly topology: Topology,
    readonly layout: LocalStateLayout,
    readonly endpoints: LocalEndpoints,
    readonly domains: ReadonlyMap<string, LocalDomain>,
    private readonly teardown: () => Promise<void>,
  ) {}

  domain(name: string): LocalDomain {
    const domain = this.domains.get(name);
    if (!domain) throw new Error(`no trust domain "${name}" in this local federation; it has ${[...this.domains.keys()].join(', ')}`);
    return domain;
  }

  /** Stops every process, releases the lock and removes the endpoints file; the run's logs stay. */
  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }
}

/**
 * Brings the federation up and resolves once every process is ready and `endpoints.json` is written.
 * An invalid topology is rejected before anything is written; a second start on the same state folder
 * is refused with `AlreadyRunningError`; on any failure everything started so far is stopped.
 */
export async function startLocalFederation(options: LocalFederationOptions = {}): Promise<LocalFederation> {
  const { spec = EXAMPLE_FEDERATION, stateDir = DEFAULT_STATE_DIR, progress = SILENT_PROGRESS, x509SvidTtl } = options;
  const checked = await progress.step(
    'checking the topology',
    async () => {
      const topology = resolveTopology(spec);
      checkRunsLocally(topology);
      return topology;
    },
    (topology) =>
      `topology valid: ${topology.trustDomains.map((td) => td.name).join(', ')}; ` +
      `${topology.trustDomains.reduce((n, td) => n + td.federatesWith.length, 0)} federation relationships`,
  );
  const names = checked.trustDomains.map((td) => td.name);
  const ports = await allocatePorts(checked);
  const layout = localStateLayout(stateDir, names);
  const lock = await InstanceLock.acquire(layout.lockFile, (stale, stopped) =>
    progress.note(`took over the stale lock of pid ${stale.pid} (not running); stopped ${stopped.length} of its leftover processes`),
  );

  const processes: Array<{ stop(): Promise<void> }> = [];
  const unwatch = watchSupervisedProcesses((live) => lock.update(live.filter((record) => startedHere(layout, record))));
  const teardown = async () => {
    // Reverse start order: the apiservers before their registries, those before the agents, the agents before the servers.
    for (const child of [...processes].reverse()) await child.stop();
    unwatch();
    rmSync(layout.endpointsFile, { force: true });
    if (!layout.socketDir.startsWith(layout.root + path.sep)) rmSync(layout.socketDir, { recursive: true, force: true });
    lock.release();
  };
  try {
    for (const dir of [layout.runDir, layout.socketDir]) rmSync(dir, { recursive: true, force: true });
    mkdirSync(layout.runDir, { recursive: true });

    const cas = await progress.step(
      'preparing the upstream CAs',
      () => loadOrCreateUpstreamCas(layout.upstreamCaDir, names),
      (stored) =>
        `upstream CAs in ${display(layout.upstreamCaDir)}: ` +
        Object.entries(stored).map(([td, { created }]) => `${td} (${created ? 'new' : 'kept'})`).join(', '),
    );
    const topology = bootstrapFederation(
      localTopology(checked, ports),
      Object.fromEntries(Object.entries(cas).map(([td, stored]) => [td, stored.ca])),
    );
    const plans = planLocalFederation(topology, {
      layout,
      ports,
      upstreamCaDirs: Object.fromEntries(Object.entries(cas).map(([td, stored]) => [td, stored.dir])),
      uid: currentUid(),
      apiserverExecutable: prepareApiServerExecutable(layout.apiserverExecutable),
      ...(x509SvidTtl !== undefined && { x509SvidTtl }),
    });

    const servers = await progress.step(
      'starting the SPIRE servers',
      () => startEach(plans, processes, startPlannedServer),
      () => `SPIRE servers healthy: ${plans.map((plan) => `${plan.td.name} (bundle endpoint 127.0.0.1:${plan.ports.bundleEndpoint})`).join(', ')}`,
    );
    await progress.step(
      'creating the federation relationships',
      () => Promise.all(plans.map((plan, i) => seedFederation(servers[i]!, plan))),
      () =>
        `federation relationships created, each seeded with the peer's upstream root: ` +
        plans.flatMap((plan) => plan.federation.map((edge) => `${plan.td.name} → ${edge.trustDomain}`)).join(', '),
    );
    await progress.step(
      'creating the registration entries',
      () => Promise.all(plans.map(async (plan, i) => Promise.all(plan.entries.map((entry) => servers[i]!.createEntry(entry))))),
      () =>
        `registration entries created: ` +
        plans.map((plan) => `${plan.td.name} (${plan.entries.map((entry) => entry.hint).join(', ')})`).join(', '),
    );
    const agents = await progress.step(
      'starting the SPIRE agents',
      () => startEach(plans, processes, (plan, i) => startPlannedAgent(plan, servers[i]!)),
      () => `SPIRE agents attested: ${plans.map((plan) => plan.td.name).join(', ')}`,
    );
    const directories = plans.filter((plan) => plan.apiserver);
    const registries = await progress.step(
      'starting the OCI registries',
      () => startEach(directories, processes, startPlannedRegistry),
      () =>
        `OCI registries serving, each trusting only its apiserver's token key: ` +
        directories.map((plan) => `${plan.td.name} (${plan.apiserver!.registry.url})`).join(', '),
    );
    const registryOf = (plan: LocalDomainPlan) => registries[directories.indexOf(plan)];
    const apiservers: Array<ApiServerProcess | undefined> = [];
    for (const [i, plan] of plans.entries()) {
      const apiserverPlan = plan.apiserver;
      apiservers.push(
        apiserverPlan &&
          (await progress.step(
            `starting the apiserver of ${plan.td.name}`,
            async () => {
              const apiserver = await ApiServerProcess.start(apiserverPlan, agents[i]!.endpoint);
              processes.push(apiserver);
              return apiserver;
            },
            (apiserver) =>
              `apiserver of ${plan.td.name} serving as ${apiserverPlan.spiffeId} on ${apiserver.address}, records in ${apiserverPlan.registry.url}` +
              (apiserverPlan.syncPeers.length > 0 ? `, may sync from ${apiserverPlan.syncPeers.join(', ')}` : ''),
          )),
      );
    }

    const domains = plans.map((plan, i) => ({
      plan,
      server: servers[i]!,
      agent: agents[i]!,
      ...(plan.apiserver && { registry: registryOf(plan) }),
      ...(apiservers[i] && { apiserver: apiservers[i] }),
    }));
    const endpoints = localEndpoints(layout, domains);
    writeEndpoints(layout.endpointsFile, endpoints);
    progress.note(`endpoints written to ${display(layout.endpointsFile)}`);
    return new LocalFederation(topology, layout, endpoints, new Map(domains.map((domain) => [domain.plan.td.name, domain])), teardown);
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** The SPIRE server of a planned domain: relationships left to `seedFederation`, the domain's upstream CA. */
export function startPlannedServer(plan: LocalDomainPlan): Promise<SpireServerProcess> {
  return SpireServerProcess.start({
    td: plan.td,
    dir: plan.serverDir,
    socketDir: plan.socketDir,
    ports: { server: plan.ports.server, health: plan.ports.serverHealth, bundleEndpoint: plan.ports.bundleEndpoint },
    federationRelationships: 'dynamic',
    upstreamCaDir: plan.upstreamCaDir,
  });
}

/** Creates the domain's federation relationships, each seeded with the peer's bundle; the peers need not run. */
export async function seedFederation(server: SpireServerProcess, plan: LocalDomainPlan): Promise<void> {
  for (const relationship of plan.federation) {
    mkdirSync(path.dirname(relationship.trustDomainBundlePath), { recursive: true });
    writeFileSync(relationship.trustDomainBundlePath, relationship.bundle);
    await server.createFederation(relationship);
  }
}

/** The registry of a planned Directory: token auth against its apiserver, trusting that apiserver's key alone. */
function startPlannedRegistry(plan: LocalDomainPlan): Promise<RegistryProcess> {
  const apiserver = plan.apiserver;
  if (!apiserver) throw new Error(`${plan.td.name} runs no apiserver, so it has no registry`);
  return RegistryProcess.start({
    dir: apiserver.registry.dir,
    listen: apiserver.registry.address,
    tokenRealm: apiserver.registry.tokenRealm,
    service: apiserver.registry.service,
    trustedKeys: [ensureRegistryTokenKey(apiserver.registryTokenKeyFile)],
    // The record store deletes manifests (Delete); without it the registry refuses.
    deleteEnabled: true,
  });
}

async function startPlannedAgent(plan: LocalDomainPlan, server: SpireServerProcess): Promise<SpireAgentProcess> {
  return SpireAgentProcess.start({
    td: plan.td,
    dir: plan.agentDir,
    socketDir: plan.socketDir,
    serverPort: plan.ports.server,
    healthPort: plan.ports.agentHealth,
    trustBundlePem: await server.bundleShow('pem'),
    joinToken: await server.generateJoinToken(plan.nodeId),
  });
}

/**
 * Starts one process per plan, all at once, and records each started one for the teardown. Fails with
 * the first failure only once every start has settled, so that none is left running unrecorded.
 */
async function startEach<T extends { stop(): Promise<void> }>(
  plans: readonly LocalDomainPlan[],
  processes: Array<{ stop(): Promise<void> }>,
  start: (plan: LocalDomainPlan, index: number) => Promise<T>,
): Promise<T[]> {
  const results = await Promise.allSettled(plans.map(start));
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  processes.push(...started);
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return started;
}

/** All ports at once (ports allocated in separate calls could coincide), by trust domain. */
async function allocatePorts(topology: Topology): Promise<Record<string, LocalDomainPorts>> {
  const free = await freePorts(topology.trustDomains.reduce((n, td) => n + (td.apiserver ? 7 : 4), 0));
  const next = () => free.shift()!;
  return Object.fromEntries(
    topology.trustDomains.map((td) => {
      const ports: LocalDomainPorts = {
        server: next(),
        serverHealth: next(),
        bundleEndpoint: next(),
        agentHealth: next(),
        ...(td.apiserver && { apiserver: { grpc: next(), http: next(), registry: next() } }),
      };
      return [td.name, ports];
    }),
  );
}

function currentUid(): number {
  if (typeof process.getuid !== 'function') {
    throw new Error('local mode selects workloads by unix uid (the unix workload attestor), which this platform does not have');
  }
  return process.getuid();
}

function display(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
}
