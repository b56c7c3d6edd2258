/** `npm run local:down [-- --state-dir <dir>]`: stops the local mode that `npm start` runs. */
import { parseArgs } from 'node:util';
import { DEFAULT_STATE_DIR } from './state';
import { stopLocalInstance } from './stop-instance';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'state-dir': { type: 'string' } } });
  await stopLocalInstance(values['state-dir'] ?? DEFAULT_STATE_DIR, (line) => console.log(line));
}

main().catch((error: Error) => {
  console.error(`local:down failed: ${error.message}`);
  process.exit(1);
});
