/** The programs a plan runs, found on PATH before anything starts, with how to install a missing one. */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { KIND_VERSION } from './clusters';
import type { Step, TaskStep } from './steps';

const INSTALL = {
  docker: 'install Docker Engine or Docker Desktop (https://docs.docker.com/engine/install/) and start it',
  kind: `install kind ${KIND_VERSION}: go install sigs.k8s.io/kind@${KIND_VERSION}, or a release binary (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)`,
  kubectl: 'install kubectl 1.35, 1.36 or 1.37 (https://kubernetes.io/docs/tasks/tools/)',
  pulumi: 'install the Pulumi CLI (https://www.pulumi.com/docs/install/)',
  npm: 'install Node.js 20 with npm',
} as const;

export function findOnPath(program: string, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A first step that fails, naming every missing program and how to get it, unless all that `steps` run are on PATH. */
export function toolCheck(steps: readonly Step[]): TaskStep {
  const programs = [...new Set(steps.flatMap((step) => (step.kind === 'task' ? [] : [step.argv[0]!])))];
  return {
    kind: 'task',
    title: `Check the programs on PATH: ${programs.join(', ')}`,
    effects: ['fails naming each missing program and how to install it'],
    run: () => {
      const missing = programs.filter((program) => findOnPath(program) === undefined);
      if (missing.length > 0) {
        const how = (program: string) => (INSTALL as Record<string, string>)[program] ?? 'install it';
        throw new Error(`not on PATH: ${missing.join(', ')}\n${missing.map((program) => `  - ${program}: ${how(program)}`).join('\n')}`);
      }
    },
  };
}
