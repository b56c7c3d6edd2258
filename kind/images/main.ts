/**
 * `npx tsx kind/images/main.ts [--json]`: makes sure the Docker engine runs and every image the
 * Kind clusters need is built here (see ensure.ts), then prints what each image is tagged, whether it
 * was built now or already there, and how long each step took.
 */
import { EngineError } from '../engine/engine';
import { ensureKindImages, PREFIX, type SummaryRow } from './ensure';
import { useModuleProxyOnly } from '../../tools/go-env';

useModuleProxyOnly();

export function summaryTable(rows: readonly SummaryRow[]): string {
  const header = ['what', 'tag / path', 'status', 'seconds'];
  const lines = rows.map((row) => [row.what, row.result, row.status, String(row.seconds)]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  return [format(header), ...lines.map(format)].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const unknown = argv.filter((arg) => arg !== '--json');
  if (unknown.length > 0) {
    console.error('usage: tsx kind/images/main.ts [--json]');
    return 2;
  }
  const result = await ensureKindImages({ log: (line) => console.error(line) });
  if (json) {
    const { engine, ...rest } = result;
    console.log(JSON.stringify({ ...rest, engine: { serverVersion: engine.serverVersion, ours: engine.ours, pid: engine.pid } }, null, 2));
    return 0;
  }
  const built = result.summary.filter((row) => row.status === 'built').length;
  console.log(summaryTable(result.summary));
  console.log('');
  for (const note of result.notes) console.log(`note: ${note}`);
  console.log(`kind ${result.kind}`);
  console.log(`kubectl ${result.kubectl}`);
  console.log(`node image ${result.nodeImage}`);
  console.log(`${PREFIX} ${built === 0 ? 'warm' : 'cold'} run: ${result.seconds} s (${built} step(s) built, Docker engine ${result.engine.serverVersion}${result.engine.ours ? `, ours, pid ${result.engine.pid}` : ''})`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`${PREFIX} ${error instanceof EngineError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
