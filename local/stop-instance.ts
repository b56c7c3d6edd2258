/** Stopping a running local mode from another process: what `npm run local:down` does. */
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readLock } from './instance-lock';
import { isAlive, stillRunning, stopRecordedProcesses } from './recorded-processes';
import { localStateLayout } from './state';

/** How long the instance gets to stop its processes itself before they are stopped one by one. */
const INSTANCE_GRACE_MS = 20_000;

/**
 * Asks the instance holding `stateDir`'s lock to stop (SIGTERM, which it handles like Ctrl-C), waits for
 * it, then stops whatever it left running and removes the lock. Returns whether anything was running.
 */
export async function stopLocalInstance(stateDir: string, log: (line: string) => void): Promise<boolean> {
  const { lockFile } = localStateLayout(stateDir, []);
  const holder = readLock(lockFile);
  if (!holder) {
    log(`no dirtk local mode is running in ${stateDir} (no ${lockFile})`);
    return false;
  }
  if (stillRunning(holder)) {
    log(`stopping dirtk local mode (pid ${holder.pid}, started ${holder.startedAt}) …`);
    process.kill(holder.pid, 'SIGTERM');
    const deadline = Date.now() + INSTANCE_GRACE_MS;
    while (isAlive(holder.pid) && Date.now() < deadline) await sleep(100);
    if (stillRunning(holder)) {
      log(`pid ${holder.pid} did not stop within ${INSTANCE_GRACE_MS / 1000} s; killing it and stopping its processes one by one`);
      process.kill(holder.pid, 'SIGKILL');
    }
  } else {
    log(`the instance that held the lock (pid ${holder.pid}) is gone; stopping what it left running`);
  }
  // The instance rewrites the lock as its processes exit: read what is left now.
  const left = readLock(lockFile)?.processes ?? [];
  const stopped = await stopRecordedProcesses(left);
  for (const record of stopped) log(`stopped ${record.name} (pid ${record.pid})`);
  rmSync(lockFile, { force: true });
  log('dirtk local mode stopped');
  return true;
}
