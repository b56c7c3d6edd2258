/**
 * `npx tsx kind/engine/main.ts start|stop|status`: the Docker engine of the Kind clusters (see
 * engine.ts). `start` uses the engine that answers or starts ours; `stop` stops only ours; `status`
 * says which engine answers and whether it is ours.
 */
import { EngineError, engineStatus, ensureDockerEngine, stopDockerEngine } from './engine';

const USAGE = 'usage: tsx kind/engine/main.ts start|stop|status';

async function main(argv: readonly string[]): Promise<number> {
  const log = (line: string) => console.log(line);
  switch (argv.length === 1 ? argv[0] : undefined) {
    case 'start':
      await ensureDockerEngine({ log });
      return 0;
    case 'stop':
      await stopDockerEngine({ log });
      return 0;
    case 'status': {
      const status = await engineStatus();
      const whose = status.ours ? `ours (pid ${status.ours.pid}, started ${status.ours.startedAt}, pulls via ${status.ours.proxy})` : 'not started by dirtk';
      console.log(status.answering ? `Docker engine ${status.serverVersion} answers: ${whose}` : 'no Docker engine answers');
      if (status.ours) console.log(`data ${status.layout.dataRoot}, log ${status.layout.logFile}`);
      return status.answering ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof EngineError ? error.message : error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  },
);
