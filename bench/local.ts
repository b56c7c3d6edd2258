/**
 * Local mode: seconds from `npm start` to the first successful cross-domain call of its tour, and Pull
 * throughput through SPIFFE mTLS from dirctl of the federated trust domain against dirctl of the
 * apiserver's own one, both against the same local apiserver in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type StoreServiceClient, storeServiceClient } from '@dirtk/directory-api/grpc';
import { authorizeId, spiffeChannelCredentials } from '@dirtk/spiffe/spiffetls';
import { SpiffeId } from '@dirtk/spiffe/spiffeid';
import { X509Source } from '@dirtk/spiffe/workloadapi';
import { SVID_HINTS } from '../local/entries';
import { type LocalFederation, startLocalFederation } from '../local/federation';
import { FIRST_CROSS_DOMAIN_CALL } from '../local/tour';
import { PROJECT_ROOT } from '../tools/paths';
import { whySpireIsUnavailable } from '../test/support/spire-available';
import { exchange, sampleRecord, timeSequentialCalls } from './apiserver';

const PULLS = 1_000;
const WARM_UP_ROUNDS = 3;

export async function localBench(): Promise<Record<string, unknown>> {
  const unavailable = await whySpireIsUnavailable();
  if (unavailable) return { skipped: unavailable };
  return {
    description:
      'npm start: `tsx local/main.ts --exit-after-tour` on a fresh state folder (upstream CAs created), seconds from spawning it to its output lines; ' +
      `pull: ${PULLS} sequential Pull streams of a ~1 KiB record on one SPIFFE mTLS connection per caller (after ${WARM_UP_ROUNDS} discarded rounds of each), against the example federation's local apiserver`,
    npmStart: await timeNpmStart(),
    pull: await pullThroughput(),
  };
}

async function timeNpmStart(): Promise<Record<string, number>> {
  const { execa } = await import('execa');
  const stateDir = mkdtempSync(path.join(tmpdir(), 'dirtk-bench-start-'));
  const milestones = [
    { name: 'secondsToApiserverServing', line: /apiserver of \S+ serving as / },
    { name: 'secondsToFirstCrossDomainCall', line: new RegExp(FIRST_CROSS_DOMAIN_CALL) },
  ];
  const reached: Record<string, number> = {};
  const started = process.hrtime.bigint();
  try {
    const child = execa('tsx', ['local/main.ts', '--exit-after-tour', '--state-dir', stateDir], { cwd: PROJECT_ROOT, preferLocal: true, all: true, reject: false });
    for await (const line of child.iterable({ from: 'all' })) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      for (const { name, line: pattern } of milestones) {
        if (reached[name] === undefined && pattern.test(line)) reached[name] = Number(seconds.toFixed(2));
      }
    }
    const { exitCode, all } = await child;
    const missed = milestones.filter(({ name }) => reached[name] === undefined).map(({ name }) => name);
    if (exitCode !== 0 || missed.length > 0) throw new Error(`npm start exited with ${exitCode}${missed.length > 0 ? ` before ${missed.join(', ')}` : ''}:\n${all}`);
    return reached;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function pullThroughput(): Promise<Record<string, unknown>> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'dirtk-bench-local-'));
  let federation: LocalFederation | undefined;
  const opened: Array<{ close(): void }> = [];
  try {
    federation = await startLocalFederation({ stateDir });
    const running = federation;
    const serverDomain = running.topology.trustDomains.find((td) => td.apiserver)!;
    const apiserver = running.endpoints.trustDomains[serverDomain.name]!.apiserver!;
    const clientOf = async (td: string): Promise<StoreServiceClient> => {
      const source = await X509Source.create({ endpoint: running.endpoints.trustDomains[td]!.workloadApi });
      opened.push(source);
      const credentials = spiffeChannelCredentials({
        source: { getX509Svid: () => source.getX509Svid(SVID_HINTS.dirctl), getX509Bundle: (trustDomain) => source.getX509Bundle(trustDomain) },
        authorizer: authorizeId(SpiffeId.parse(apiserver.spiffeId)),
      });
      const client = storeServiceClient(apiserver.address, credentials);
      opened.push(client);
      return client;
    };
    const peer = serverDomain.federatesWith[0]!.trustDomain;
    const own = await clientOf(serverDomain.name);
    const federated = await clientOf(peer);

    const { cid } = await exchange(own.push(), { data: sampleRecord(0) });
    const pull = async (client: StoreServiceClient) => {
      await exchange(client.pull(), { cid });
    };
    // Throughput still climbs for a few thousand calls after the start (JIT, SPIRE settling); without
    // these discarded rounds, whichever caller is measured second looks faster.
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      for (const client of [own, federated]) await timeSequentialCalls(client, PULLS, pull);
    }
    const sameDomain = await timeSequentialCalls(own, PULLS, pull);
    const crossDomain = await timeSequentialCalls(federated, PULLS, pull);
    return {
      sameDomain: { caller: running.endpoints.trustDomains[serverDomain.name]!.dirctl.spiffeId, ...sameDomain },
      crossDomain: { caller: running.endpoints.trustDomains[peer]!.dirctl.spiffeId, ...crossDomain },
      crossToSameRatio: Number((crossDomain.callsPerSecond / sameDomain.callsPerSecond).toFixed(2)),
    };
  } finally {
    for (const resource of opened) resource.close();
    await federation?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
