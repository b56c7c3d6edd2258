/**
 * `npm run setup`: builds the pinned SPIRE binaries (see `spire/build/install.ts`) and the pinned OCI
 * registry and oras CLI (see `registry/build/install.ts`) into the cache unless they are there.
 */
import { ensureRegistry, RegistrySetupError } from '../registry/build/install';
import { ensureSpire, SpireSetupError } from '../spire/build/install';
import { useModuleProxyOnly } from '../tools/go-env';

useModuleProxyOnly();

async function main(): Promise<void> {
  const log = (line: string) => console.log(`[setup] ${line}`);
  await ensureSpire({ log });
  await ensureRegistry({ log });
}

main().catch((error: unknown) => {
  console.error(`[setup] ${error instanceof SpireSetupError || error instanceof RegistrySetupError ? error.message : String(error)}`);
  process.exit(1);
});
