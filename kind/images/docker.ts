/** The docker calls the image recipes make: labels, copying a staged tree in, and piping one program into another. */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { CommandError, run, tail } from '../engine/progress';
import { RECIPE_KEY_LABEL } from './versions';

/** The recipe key an image carries, or undefined when the image is missing (or not ours). */
export async function imageRecipeKey(docker: string, tag: string): Promise<string | undefined> {
  const result = await run(docker, ['image', 'inspect', '--format', `{{ index .Config.Labels "${RECIPE_KEY_LABEL}" }}`, tag], { allowFailure: true });
  const key = result.stdout.trim();
  return result.failed || key === '' || key === '<no value>' ? undefined : key;
}

/** `docker commit`/`docker import` `--change` lines of an image config. */
export interface ImageConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly expose?: readonly string[];
  readonly stopSignal?: string;
}

/** The `--change` arguments for `config` (ENTRYPOINT before CMD: setting ENTRYPOINT clears an inherited CMD). */
export function changeArgs(config: ImageConfig): string[] {
  const changes: string[] = [];
  if (config.env) for (const [key, value] of Object.entries(config.env)) changes.push(`ENV ${key}=${JSON.stringify(value)}`);
  if (config.workdir) changes.push(`WORKDIR ${config.workdir}`);
  if (config.user) changes.push(`USER ${config.user}`);
  if (config.expose) for (const port of config.expose) changes.push(`EXPOSE ${port}`);
  if (config.stopSignal) changes.push(`STOPSIGNAL ${config.stopSignal}`);
  if (config.labels) for (const [key, value] of Object.entries(config.labels)) changes.push(`LABEL ${key}=${JSON.stringify(value)}`);
  if (config.entrypoint) changes.push(`ENTRYPOINT ${JSON.stringify(config.entrypoint)}`);
  if (config.cmd) changes.push(`CMD ${JSON.stringify(config.cmd)}`);
  return changes.flatMap((change) => ['--change', change]);
}

/**
 * Copies the tree staged in `stagingDir` into `container` at `/`, keeping the staged owners and modes
 * (`docker cp -a` of a tar stream). The top-level entries are named one by one so that `/` itself keeps
 * its mode; none of them may be one of the usr-merge links (`bin`, `sbin`, `lib`, `lib64`).
 */
export async function copyTreeInto(docker: string, container: string, stagingDir: string): Promise<void> {
  const entries = readdirSync(stagingDir).sort();
  const merged = entries.filter((entry) => ['bin', 'sbin', 'lib', 'lib64'].includes(entry));
  if (merged.length > 0) throw new Error(`staged tree ${stagingDir} holds ${merged.join(', ')}: stage under usr/ instead`);
  if (entries.length === 0) return;
  await pipeCommands(['tar', '--numeric-owner', '-C', stagingDir, '-cf', '-', ...entries], [docker, 'cp', '-a', '-', `${container}:/`]);
}

/** Runs `producer | consumer`, failing with the tail of both outputs when either fails. */
export async function pipeCommands(producer: readonly string[], consumer: readonly string[]): Promise<string> {
  const left = spawn(producer[0]!, producer.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const right = spawn(consumer[0]!, consumer.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let leftErr = '';
  let rightOut = '';
  left.stderr.on('data', (chunk: Buffer) => (leftErr = (leftErr + chunk.toString()).slice(-8000)));
  right.stdout.on('data', (chunk: Buffer) => (rightOut = (rightOut + chunk.toString()).slice(-8000)));
  right.stderr.on('data', (chunk: Buffer) => (rightOut = (rightOut + chunk.toString()).slice(-8000)));
  // The consumer may stop reading early; its exit code then says why.
  right.stdin.on('error', () => {});
  left.stdout.pipe(right.stdin);
  const exit = (child: ReturnType<typeof spawn>) =>
    new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
  const [leftCode, rightCode] = await Promise.all([exit(left), exit(right)]);
  if (leftCode !== 0 || rightCode !== 0) {
    throw new CommandError(
      `${producer.join(' ')} | ${consumer.join(' ')} failed (exit ${leftCode} | ${rightCode}):\n${tail([leftErr, rightOut].filter(Boolean).join('\n'))}`,
    );
  }
  return rightOut;
}
