/** Prints a plan (`--dry-run`) or executes it, collecting the failed pods' logs when a step fails. */
import { spawn } from 'node:child_process';
import { kubectl, shellLine, type ClusterAccess } from './commands';
import { PlanFailure, type Plan, type Step } from './steps';

export type Write = (line: string) => void;

/** The commands that show why pods failed, shared by the dry run and the real run. */
const diagnostics = {
  pods: (access: ClusterAccess) => kubectl(access, 'get', 'pods', '--all-namespaces', '--output', 'wide'),
  podsJson: (access: ClusterAccess) => kubectl(access, 'get', 'pods', '--all-namespaces', '--output', 'json'),
  logs: (access: ClusterAccess, namespace: string, pod: string, container: string, previous: boolean) =>
    kubectl(access, '--namespace', namespace, 'logs', pod, '--container', container, '--tail=100', ...(previous ? ['--previous'] : [])),
  events: (access: ClusterAccess) =>
    kubectl(access, 'get', 'events', '--all-namespaces', '--field-selector', 'type=Warning', '--sort-by=.lastTimestamp'),
};

export function printPlan(plan: Plan, write: Write): void {
  write(`kind:${plan.name} --dry-run: every step and command in order; nothing is run.`);
  for (const line of plan.preamble) write(line);
  plan.steps.forEach((step, index) => {
    write('');
    write(`${String(index + 1).padStart(2)}. ${step.title}`);
    for (const line of describeStep(step)) write(`    ${line}`);
  });
  if (plan.diagnose.length > 0) {
    write('');
    write(`If a step fails, for each of ${plan.diagnose.map((access) => access.cluster).join(', ')}:`);
    for (const access of plan.diagnose) {
      write(`    $ ${shellLine(diagnostics.pods(access))}`);
      write(`    $ ${shellLine(diagnostics.podsJson(access))}   (finds the failed containers)`);
      write(`    $ ${shellLine(diagnostics.logs(access, '<namespace>', '<pod>', '<container>', false))}   (each failed container)`);
      write(`    $ ${shellLine(diagnostics.events(access))}`);
    }
  }
}

function describeStep(step: Step): string[] {
  switch (step.kind) {
    case 'command':
      return [`$ ${shellLine(step.argv, step.env)}`, ...(step.capture ? [`(output kept as ${step.capture})`] : [])];
    case 'poll':
      return [`$ ${shellLine(step.argv)}`, `(every ${step.everySeconds}s until ${step.until}, at most ${step.timeoutSeconds}s; output kept as ${step.capture})`];
    case 'task':
      return [...step.effects];
  }
}

/** Runs every step in order; on the first failure, prints why and the diagnostics, and returns false. */
export async function runPlan(plan: Plan, projectRoot: string, write: Write): Promise<boolean> {
  const captured = new Map<string, string>();
  const context = {
    captured: (name: string) => {
      const value = captured.get(name);
      if (value === undefined) throw new Error(`internal: no step captured "${name}" before it was needed`);
      return value;
    },
    log: write,
  };
  const started = Date.now();
  for (const line of plan.preamble) write(line);
  for (const [index, step] of plan.steps.entries()) {
    write('');
    write(`==> [${index + 1}/${plan.steps.length}] ${step.title}`);
    const stepStarted = Date.now();
    try {
      if (step.kind === 'task') {
        await step.run(context);
      } else if (step.kind === 'command') {
        write(`$ ${shellLine(step.argv, step.env)}`);
        const stdout = await runCommand(step.argv, { cwd: projectRoot, env: step.env, timeoutSeconds: step.timeoutSeconds, capture: step.capture !== undefined });
        if (step.capture !== undefined) {
          captured.set(step.capture, stdout.trim());
          write(stdout.trim());
        }
      } else {
        write(`$ ${shellLine(step.argv)}`);
        captured.set(step.capture, await poll(step, projectRoot, write));
      }
    } catch (error) {
      write('');
      write(error instanceof PlanFailure ? error.message : `Step ${index + 1} failed: ${(error as Error).message}`);
      if (step.hint) write(`Hint: ${step.hint}`);
      for (const access of plan.diagnose) await diagnose(access, projectRoot, write);
      write('');
      write(`kind:${plan.name} failed after ${elapsed(started)}.`);
      return false;
    }
    write(`(${elapsed(stepStarted)})`);
  }
  write('');
  for (const line of plan.epilogue) write(line);
  write(`kind:${plan.name} finished in ${elapsed(started)}.`);
  return true;
}

async function poll(step: Extract<Step, { kind: 'poll' }>, cwd: string, write: Write): Promise<string> {
  const deadline = Date.now() + step.timeoutSeconds * 1000;
  let last = '';
  for (;;) {
    let status: string;
    try {
      const stdout = await runCommand(step.argv, { cwd, timeoutSeconds: 30, capture: true, quiet: true });
      const progress = step.check(stdout);
      if (progress.done) {
        write(progress.status);
        return stdout;
      }
      status = progress.status;
    } catch (error) {
      status = `(${(error as Error).message})`;
    }
    if (status !== last) write(status);
    last = status;
    if (Date.now() > deadline) throw new Error(`not done after ${step.timeoutSeconds}s (${step.until}); last status: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, step.everySeconds * 1000));
  }
}

interface PodList {
  items: {
    metadata: { name: string; namespace: string };
    status?: {
      phase?: string;
      initContainerStatuses?: ContainerStatus[];
      containerStatuses?: ContainerStatus[];
    };
  }[];
}
interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { running?: unknown; terminated?: { exitCode: number }; waiting?: { reason?: string } };
}

/** Lists the pods, the logs of every container that failed, restarted or is not ready, and warning events. */
async function diagnose(access: ClusterAccess, cwd: string, write: Write): Promise<void> {
  const show = async (argv: string[]) => {
    write(`$ ${shellLine(argv)}`);
    try {
      await runCommand(argv, { cwd, timeoutSeconds: 60, capture: false });
    } catch (error) {
      write(`(${(error as Error).message})`);
    }
  };
  write('');
  write(`--- Diagnostics of ${access.cluster} ---`);
  await show(diagnostics.pods(access));
  let pods: PodList;
  try {
    pods = JSON.parse(await runCommand(diagnostics.podsJson(access), { cwd, timeoutSeconds: 60, capture: true, quiet: true })) as PodList;
  } catch (error) {
    write(`(cannot list the pods of ${access.cluster}: ${(error as Error).message})`);
    return;
  }
  for (const pod of pods.items) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const container of statuses) {
      const failed = container.state?.terminated !== undefined && container.state.terminated.exitCode !== 0;
      const unready = container.state?.running !== undefined && container.ready === false;
      const restarted = (container.restartCount ?? 0) > 0;
      if (failed || unready || restarted || container.state?.waiting !== undefined) {
        await show(diagnostics.logs(access, pod.metadata.namespace, pod.metadata.name, container.name, restarted && !failed));
      }
    }
  }
  await show(diagnostics.events(access));
}

interface RunOptions {
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** Return stdout instead of passing it through. */
  readonly capture: boolean;
  /** Keep stderr too (polling), and put it in the error. */
  readonly quiet?: boolean;
}

function runCommand(argv: readonly string[], options: RunOptions): Promise<string> {
  const [program, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', options.capture ? 'pipe' : 'inherit', options.quiet ? 'pipe' : 'inherit'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutSeconds * 1000);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(error.code === 'ENOENT' ? `${program} is not on PATH` : `cannot start ${program}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`${program} did not finish within ${options.timeoutSeconds}s`));
      else if (code === 0) resolve(stdout);
      else reject(new Error(`${program} exited with code ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`));
    });
  });
}

function elapsed(since: number): string {
  const seconds = Math.round((Date.now() - since) / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}
