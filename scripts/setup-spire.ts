/**
 * `npm run setup [-- --crds-only]`: builds the pinned SPIRE binaries and reads the controller
 * manager's CRDs into `.cache/spire`, skipping whatever is already there.
 */
import { ensureSpire, SpireSetupError } from '../spire/install';

async function main(): Promise<void> {
  const binaries = !process.argv.includes('--crds-only');
  await ensureSpire({ binaries, log: (line) => console.log(`[setup] ${line}`) });
}

main().catch((error: unknown) => {
  console.error(`[setup] ${error instanceof SpireSetupError ? error.message : String(error)}`);
  process.exit(1);
});
