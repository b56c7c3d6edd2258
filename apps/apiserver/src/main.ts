/**
 * `apiserver`: the Directory apiserver. Configuration: see `config.ts` and the README.
 */
import { ConfigError, loadConfig } from './config';
import { startApiServer } from './apiserver';
import { createJsonLogger } from './observability/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  const logger = createJsonLogger({ level: config.logLevel });
  const server = await startApiServer(config, logger).catch((error: Error) => {
    logger.error('apiserver failed to start', { error: error.message });
    process.exit(1);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    server.close().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error('stop failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
