/** `npm run setup`: builds the pinned SPIRE binaries into the cache (see `spire/build/install.ts`) unless they are there. */
import { ensureSpire, SpireSetupError } from '../spire/build/install';
import { useModuleProxyOnly } from '../tools/go-env';

useModuleProxyOnly();

async function main(): Promise<void> {
  await ensureSpire({ log: (line) => console.log(`[setup] ${line}`) });
}

main().catch((error: unknown) => {
  console.error(`[setup] ${error instanceof SpireSetupError ? error.message : String(error)}`);
  process.exit(1);
});
