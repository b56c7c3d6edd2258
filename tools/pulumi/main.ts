/**
 * `tsx tools/pulumi/main.ts [--env]`: builds the pinned Pulumi CLI, Node.js language host and Kubernetes
 * provider into the cache (nothing when they are there). With `--env`, prints `export` lines for a shell:
 *
 *   eval "$(npx tsx tools/pulumi/main.ts --env)" && pulumi version
 */
import { ensurePulumi, PulumiBuildError } from './build';
import { useModuleProxyOnly } from '../go-env';

useModuleProxyOnly();

async function main(): Promise<void> {
  const printEnv = process.argv.includes('--env');
  // Progress goes to stderr with --env, so that stdout is only the export lines.
  const install = await ensurePulumi({ log: (line) => (printEnv ? console.error : console.log)(`[pulumi] ${line}`) });
  if (printEnv) {
    for (const [name, value] of Object.entries(install.env)) console.log(`export ${name}=${shellQuote(value)}`);
  } else {
    console.log(`[pulumi] cli: ${install.cli}`);
    console.log(`[pulumi] plugins: ${install.pluginDir}`);
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

main().catch((error: unknown) => {
  console.error(`[pulumi] ${error instanceof PulumiBuildError ? error.message : String(error)}`);
  process.exit(1);
});
