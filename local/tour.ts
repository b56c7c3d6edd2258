/**
 * The scripted tour after `npm start`: dirctl, as the Directory client of each trust domain, calls an
 * apiserver (push, pull, lookup, registry credentials) and a table shows what happened next to what
 * the default authorization policy promises.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { defaultPolicyAllows } from '@dirtk/directory-api/contract';
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
  for (const [serverDomain, { apiserver }] of Object.entries(endpoints.trustDomains)) {
    if (!apiserver) continue;
    let cid = '';
    for (const callerDomain of [serverDomain, ...(peers[serverDomain] ?? [])]) {
      const caller = endpoints.trustDomains[callerDomain];
      if (!caller) throw new Error(`the tour has no endpoints for ${callerDomain}`);
      const own = callerDomain === serverDomain;
      /** dirctl `words`, which call `method`: the default policy says whether the caller may. */
      const call = async (method: string, words: readonly string[], shown: string) => {
        const result = await dirctl(
          [...words, '--server-id', apiserver.spiffeId, '--json'],
          { SPIFFE_ENDPOINT_SOCKET: caller.workloadApi, DIRCTL_SERVER: apiserver.address, DIRCTL_SVID_HINT: caller.dirctl.svidHint },
        );
        const row: TourRow = {
          call: shown,
          caller: caller.dirctl.spiffeId,
          crossDomain: !own,
          expected: defaultPolicyAllows(own ? 'own' : 'federated', method) ? 'OK' : 'PERMISSION_DENIED',
          actual: result.outcome,
          ...(result.detail !== undefined && { detail: result.detail }),
        };
        rows.push(row);
        onRow(row);
        return result.stdout;
      };
      const record = path.join(dir, `${callerDomain}.record.json`);
      writeFileSync(
        record,
        JSON.stringify({ name: `dirtk-tour-${callerDomain}`, schema_version: '0.7.0', created_at: new Date().toISOString(), annotations: { pushed_by: caller.dirctl.spiffeId } }),
      );
      const pushed = await call(StoreServiceService.push.path, ['push', record], `push ${path.basename(record)}`);
      // Everyone reads the record the apiserver's own domain pushed.
      if (own) cid = (JSON.parse(pushed || '{}') as { cid?: string }).cid ?? '';
      await call(StoreServiceService.pull.path, ['pull', cid], `pull <cid of ${serverDomain}'s record>`);
      await call(StoreServiceService.lookup.path, ['lookup', cid], `lookup <cid of ${serverDomain}'s record>`);
      await call(SyncServiceService.requestRegistryCredentials.path, ['credentials'], 'credentials');
    }
  }
  return rows;
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
