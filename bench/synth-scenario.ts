/**
 * One synth scenario in a fresh process, so its peak RSS is its own: `tsx bench/synth-scenario.ts <domains> <runs>`.
 * Each run resolves the topology and renders it, as `npm run synth` does. Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { synthesize } from '../apps/synth/main';
import { resolveTopology } from '../topology';
import { meshTopology } from './mesh-topology';

const domains = Number(process.argv[2]);
const runs = Number(process.argv[3]);
const spec = meshTopology(domains);
const outdir = mkdtempSync(path.join(tmpdir(), 'dirtk-bench-synth-'));
try {
  synthesize(resolveTopology(spec), outdir);
  const timesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    synthesize(resolveTopology(spec), outdir);
    timesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  timesMs.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      trustDomains: domains,
      federationEdges: domains * (domains - 1),
      runs,
      wallMsMedian: round(timesMs[Math.floor(runs / 2)]!),
      wallMsMin: round(timesMs[0]!),
      wallMsMax: round(timesMs[runs - 1]!),
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024),
    }),
  );
} finally {
  rmSync(outdir, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
