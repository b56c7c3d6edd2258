/**
 * The scripted tour after `npm start`: dirctl, as the Directory client of each trust domain, calls an
 * apiserver (push, pull, lookup, signing the record with a referrer, registry credentials); then each
 * Directory syncs its peers' records (CreateSync by its own dirctl, which the worker completes through
 * the peer's registry, a pull of the synced record, and its signature found there under the same CID),
 * and each peer's dirctl tries CreateSync where the policy forbids it. A table shows what happened
 * next to what the default authorization policy promises.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultPolicyAllows, type ReferrerType } from '@dirtk/directory-api/contract';
import { StoreServiceService, SyncServiceService } from '@dirtk/directory-api/grpc';
import { runDirctl } from '../apps/dirctl/src/cli';
import type { LocalEndpoints } from './endpoints';

/** What a call came to: `OK`, a gRPC status name, or dirctl's failure. */
export type Outcome = string;

export interface TourRow {
  readonly call: string;
  /** The caller's SPIFFE ID. */
  readonly caller: string;
  /** The caller is in another trust domain than the apiserver. */
  readonly crossDomain: boolean;
  readonly expected: Outcome;
  readonly actual: Outcome;
  /** dirctl's error message, when it failed. */
  readonly detail?: string;
}

/** How `npm start` announces the tour's first successful call across trust domains. */
export const FIRST_CROSS_DOMAIN_CALL = 'first cross-domain call succeeded';

/** How long the tour waits for a sync to end. */
const SYNC_TIMEOUT_MS = 120_000;
const SYNC_ENDED = new Set(['SYNC_STATUS_COMPLETED', 'SYNC_STATUS_FAILED']);
const SIGNATURE: ReferrerType = 'agntcy.dir.sign.v1.Signature';
/** The outcome of a synced record's signature row when the target lists it under the CID the source gave it. */
const SAME_CID = 'same CID';


/**
 * Runs the tour against every apiserver in `endpoints`, with callers of its own trust domain first and
 * then of every domain it federates with (`peers`). Record files go to `dir`; `onRow` sees each row
 * as soon as its call is done.
 */
export async function runTour(
  endpoints: LocalEndpoints,
  peers: Readonly<Record<string, readonly string[]>>,
  dir: string,
  onRow: (row: TourRow) => void = () => {},
): Promise<TourRow[]> {
  mkdirSync(dir, { recursive: true });
  const rows: TourRow[] = [];
  const record = (row: TourRow) => {
    rows.push(row);
    onRow(row);
  };
  /** dirctl `words`, which call `method`: the default policy says whether the caller may. */
  const call = async (callerDomain: string, serverDomain: string, method: string, words: readonly string[], shown: string) => {
    const own = callerDomain === serverDomain;
    const result = await dirctlBetween(endpoints, callerDomain, serverDomain, words);
    record({
      call: shown,
      caller: endpoints.trustDomains[callerDomain]!.dirctl.spiffeId,
      crossDomain: !own,
      expected: defaultPolicyAllows(own ? 'own' : 'federated', method) ? 'OK' : 'PERMISSION_DENIED',
      actual: result.outcome,
      ...(result.detail !== undefined && { detail: result.detail }),
    });
    return result;
  };

  /** The CID of the record each Directory's own dirctl pushed, and of the signature it attached. */
  const pushedCids = new Map<string, string>();
  const signatureCids = new Map<string, string>();
  for (const [serverDomain, { apiserver }] of Object.entries(endpoints.trustDomains)) {
    if (!apiserver) continue;
    let cid = '';
    for (const callerDomain of [serverDomain, ...(peers[serverDomain] ?? [])]) {
      const caller = endpoints.trustDomains[callerDomain];
      if (!caller) throw new Error(`the tour has no endpoints for ${callerDomain}`);
      const own = callerDomain === serverDomain;
      const recordFile = path.join(dir, `${callerDomain}.record.json`);
      writeFileSync(
        recordFile,
        JSON.stringify({ name: `dirtk-tour-${callerDomain}`, schema_version: '0.7.0', created_at: new Date().toISOString(), annotations: { pushed_by: caller.dirctl.spiffeId } }),
      );
      const pushed = await call(callerDomain, serverDomain, StoreServiceService.push.path, ['push', recordFile], `push ${path.basename(recordFile)}`);
      // Everyone reads the record the apiserver's own domain pushed.
      if (own) cid = (JSON.parse(pushed.stdout || '{}') as { cid?: string }).cid ?? '';
      await call(callerDomain, serverDomain, StoreServiceService.pull.path, ['pull', cid], `pull <cid of ${serverDomain}'s record>`);
      await call(callerDomain, serverDomain, StoreServiceService.lookup.path, ['lookup', cid], `lookup <cid of ${serverDomain}'s record>`);
      const signatureFile = path.join(dir, `${callerDomain}.signature.json`);
      writeFileSync(signatureFile, JSON.stringify({ signature: Buffer.from(`the tour, signing as ${caller.dirctl.spiffeId}`).toString('base64') }));
      const signed = await call(callerDomain, serverDomain, StoreServiceService.pushReferrer.path, ['referrers', 'push', cid, '--type', SIGNATURE, '--data', signatureFile], `referrers push <signature of ${serverDomain}'s record>`);
      if (own) signatureCids.set(serverDomain, (JSON.parse(signed.stdout || '{}') as { referrer_cid?: string }).referrer_cid ?? '');
      await call(callerDomain, serverDomain, SyncServiceService.requestRegistryCredentials.path, ['credentials'], 'credentials');
    }
    pushedCids.set(serverDomain, cid);
  }

  // Each Directory syncs the record of every peer that runs one; the peer's dirctl may not start syncs here.
  for (const [target, { apiserver }] of Object.entries(endpoints.trustDomains)) {
    if (!apiserver) continue;
    for (const source of peers[target] ?? []) {
      const sourceApiserver = endpoints.trustDomains[source]?.apiserver;
      const cid = pushedCids.get(source);
      if (!sourceApiserver || !cid) continue;
      const created = await call(target, target, SyncServiceService.createSync.path, ['sync', 'create', '--remote-directory-url', sourceApiserver.address, '--cid', cid], `sync create <${source}'s Directory>`);
      const syncId = (JSON.parse(created.stdout || '{}') as { sync_id?: string }).sync_id;
      const ended = syncId ? await syncEnd(endpoints, target, syncId) : { status: 'no sync', detail: created.detail };
      record({
        call: `sync <${source}'s record> to ${target}`,
        caller: endpoints.trustDomains[target]!.dirctl.spiffeId,
        crossDomain: false,
        expected: 'SYNC_STATUS_COMPLETED',
        actual: ended.status,
        ...(ended.detail !== undefined && { detail: ended.detail }),
      });
      await call(target, target, StoreServiceService.pull.path, ['pull', cid], `pull <cid of ${source}'s record> from ${target}`);
      const listed = await dirctlBetween(endpoints, target, target, ['referrers', 'pull', cid, '--type', SIGNATURE]);
      const signatures = listed.outcome === 'OK' ? (JSON.parse(listed.stdout) as Array<{ referrer_cid: string }>).map((referrer) => referrer.referrer_cid) : [];
      record({
        call: `signature of <${source}'s record> on ${target}`,
        caller: endpoints.trustDomains[target]!.dirctl.spiffeId,
        crossDomain: false,
        expected: SAME_CID,
        actual: listed.outcome !== 'OK' ? listed.outcome : signatures.includes(signatureCids.get(source) ?? '') ? SAME_CID : `not there (${signatures.length} other)`,
        ...(listed.detail !== undefined && { detail: listed.detail }),
      });
      await call(source, target, SyncServiceService.createSync.path, ['sync', 'create', '--remote-directory-url', sourceApiserver.address], `sync create on ${target}`);
    }
  }
  return rows;
}

/** The status a sync ends in, polled by the target domain's own dirctl. */
async function syncEnd(endpoints: LocalEndpoints, domain: string, syncId: string): Promise<{ status: string; detail?: string }> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  for (;;) {
    const result = await dirctlBetween(endpoints, domain, domain, ['sync', 'get', syncId]);
    if (result.outcome !== 'OK') return { status: result.outcome, ...(result.detail !== undefined && { detail: result.detail }) };
    const { status } = JSON.parse(result.stdout) as { status: string };
    if (SYNC_ENDED.has(status)) return { status };
    if (Date.now() > deadline) return { status, detail: `still ${status} after ${SYNC_TIMEOUT_MS / 1000} s` };
    await sleep(250);
  }
}

export function tourPassed(rows: readonly TourRow[]): boolean {
  return rows.every((row) => row.expected === row.actual);
}

export function formatTourTable(rows: readonly TourRow[]): string {
  const header = ['call', 'caller', 'expected', 'actual', ''];
  const lines = rows.map((row) => [row.call, row.caller, row.expected, row.actual, row.expected === row.actual ? '✓' : `✗ ${row.detail ?? ''}`.trimEnd()]);
  const widths = header.map((_, column) => Math.max(...[header, ...lines].map((line) => line[column]!.length)));
  const format = (line: readonly string[]) => line.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  // The last column (✓ or ✗ and why) needs no rule.
  const rule = widths.map((width, column) => (column === header.length - 1 ? '' : '-'.repeat(width)));
  return [format(header), format(rule), ...lines.map(format)].join('\n');
}

/** dirctl of `callerDomain` calling the apiserver of `serverDomain`, pinned by its SPIFFE ID, with JSON output. */
function dirctlBetween(endpoints: LocalEndpoints, callerDomain: string, serverDomain: string, words: readonly string[]): ReturnType<typeof dirctl> {
  const caller = endpoints.trustDomains[callerDomain];
  const apiserver = endpoints.trustDomains[serverDomain]?.apiserver;
  if (!caller || !apiserver) throw new Error(`the tour has no endpoints for ${caller ? `the apiserver of ${serverDomain}` : callerDomain}`);
  return dirctl([...words, '--server-id', apiserver.spiffeId, '--json'], {
    SPIFFE_ENDPOINT_SOCKET: caller.workloadApi,
    DIRCTL_SERVER: apiserver.address,
    DIRCTL_SVID_HINT: caller.dirctl.svidHint,
  });
}

/** dirctl in-process with `env` as its environment: how the call came out, its stdout and its error message. */
export async function dirctl(argv: readonly string[], env: Record<string, string>): Promise<{ outcome: Outcome; stdout: string; detail?: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runDirctl(argv, {
    stdin: Readable.from([]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  if (code === 0) return { outcome: 'OK', stdout };
  let failure: { status?: string; message?: string } = {};
  try {
    failure = JSON.parse(stderr) as typeof failure;
  } catch {
    failure = { message: stderr.trim() };
  }
  return { outcome: failure.status ?? `exit ${code}`, stdout, ...(failure.message !== undefined && { detail: failure.message }) };
}
