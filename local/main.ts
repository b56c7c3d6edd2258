/**
 * `npm start`: the example federation as local processes, a scripted tour, then running until Ctrl-C
 * or `npm run local:down`. `--exit-after-tour` stops after the tour (exit code 1 when a call did not
 * go as the policy says); `--state-dir <dir>` keeps the state elsewhere than `.local/`.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EXAMPLE_FEDERATION } from '../topology/example';
import { TopologyError } from '../topology/resolve';
import { type LocalFederation, startLocalFederation } from './federation';
import { AlreadyRunningError } from './instance-lock';
import { consoleProgress } from './progress';
import { type ProcessRecord, watchSupervisedProcesses } from '../spire/process/supervised-process';
import { DEFAULT_STATE_DIR, type LocalStateLayout, startedHere } from './state';
import { FIRST_CROSS_DOMAIN_CALL, formatTourTable, runTour, type TourRow, tourPassed } from './tour';

const USAGE = 'usage: npm start [-- --exit-after-tour] [--state-dir <dir>]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { 'exit-after-tour': { type: 'boolean' }, 'state-dir': { type: 'string' } } }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const stateDir = path.resolve(values['state-dir'] ?? DEFAULT_STATE_DIR);
  const progress = consoleProgress();
  const domains = EXAMPLE_FEDERATION.trustDomains.map((td) => td.name).join(' ⇄ ');
  console.log(`dirtk local mode: ${domains} as local processes on 127.0.0.1 (state in ${stateDir})`);

  let stopRequested = false;
  const stopSignal = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        // A second signal while stopping: give up waiting, the exit hook kills what is left.
        if (stopRequested) process.exit(130);
        stopRequested = true;
        console.log(`\n${signal}: stopping everything local mode started …`);
        resolve();
      });
    }
  });
  const shutdown = async (federation: LocalFederation | undefined, code: number): Promise<number> => {
    await federation?.stop();
    console.log('stopped');
    return code;
  };

  let federation: LocalFederation;
  try {
    federation = await startLocalFederation({ stateDir, progress });
  } catch (error) {
    // Interrupted: the start failed because its processes were stopped, and cleaned up after itself.
    if (stopRequested) return shutdown(undefined, 0);
    if (error instanceof AlreadyRunningError || error instanceof TopologyError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  if (stopRequested) return shutdown(federation, 0);

  const running = federation;
  const peers = Object.fromEntries(running.topology.trustDomains.map((td) => [td.name, td.federatesWith.map((edge) => edge.trustDomain)]));
  let crossDomainReached = false;
  // A milestone (`npm run bench` times it): a workload of one trust domain served by the other's apiserver.
  const noteFirstCrossDomainCall = (row: TourRow) => {
    if (crossDomainReached || !row.crossDomain || row.actual !== 'OK') return;
    crossDomainReached = true;
    progress.note(`${FIRST_CROSS_DOMAIN_CALL}: ${row.call} by ${row.caller}`);
  };
  const rows = await progress.step(
    'running the tour: dirctl of each trust domain calling the apiserver',
    () => runTour(running.endpoints, peers, path.join(running.layout.runDir, 'tour'), noteFirstCrossDomainCall),
    (result) => `tour done: ${result.filter((row) => row.expected === row.actual).length} of ${result.length} calls as the default policy says`,
  );
  console.log(`\n${formatTourTable(rows)}\n`);
  if (values['exit-after-tour'] || stopRequested) return shutdown(running, values['exit-after-tour'] && !tourPassed(rows) ? 1 : 0);

  reportUnexpectedExits(() => stopRequested, running.layout);
  console.log(`running; endpoints in ${running.layout.endpointsFile}. Stop with Ctrl-C or \`npm run local:down\`.`);
  await stopSignal;
  return shutdown(running, 0);
}

/** Says so when a process of the federation exits while nobody asked it to. */
function reportUnexpectedExits(stopping: () => boolean, layout: LocalStateLayout): void {
  let previous: readonly ProcessRecord[] = [];
  watchSupervisedProcesses((live) => {
    const current = live.filter((record) => startedHere(layout, record));
    if (!stopping()) {
      for (const { name, pid, logFile } of previous) {
        if (!current.some((record) => record.pid === pid)) console.error(`${name} (pid ${pid}) exited unexpectedly; its log: ${logFile}`);
      }
    }
    previous = current;
  });
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`local mode failed: ${error.message}`);
    process.exit(1);
  },
);
