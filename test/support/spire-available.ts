import { ensureSpire, SpireSetupError } from '../../spire/build/install';

/**
 * Why the real-SPIRE tests cannot run here (no uid for the unix attestor, SPIRE cannot be built), or
 * undefined when they can. The first run builds SPIRE with go install, which takes minutes.
 */
export async function whySpireIsUnavailable(): Promise<string | undefined> {
  if (typeof process.getuid !== 'function') return 'the unix workload attestor needs a POSIX uid';
  try {
    await ensureSpire();
    return undefined;
  } catch (error) {
    if (!(error instanceof SpireSetupError)) throw error;
    return `SPIRE cannot be built here: ${error.message}`;
  }
}
