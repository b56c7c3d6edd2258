import type { CheckResult } from './verification';

/** The verification results as an aligned text table, one row per call. */
export function resultTable(results: readonly CheckResult[]): string {
  const rows = [
    ['caller', 'apiserver', 'call', 'expected', 'actual', 'result'],
    ...results.map((r) => [r.caller, r.server, r.call, r.expected, r.actual, r.ok ? 'ok' : 'MISMATCH']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}
