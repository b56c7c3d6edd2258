/** argv builders: every kubectl call names its kubeconfig and context, never the current ones. */

export interface ClusterAccess {
  readonly cluster: string;
  readonly kubeconfig: string;
  readonly context: string;
}

export function kubectl(access: ClusterAccess, ...args: string[]): string[] {
  return ['kubectl', '--kubeconfig', access.kubeconfig, '--context', access.context, ...args];
}

/** How the Pulumi CLI or kubectl deploys each trust domain's manifests. */
export type Deployer = 'pulumi' | 'kubectl';

/** A rollout `kubectl rollout status` can wait for. */
export interface Workload {
  readonly kind: 'deployment' | 'statefulset' | 'daemonset';
  readonly name: string;
  readonly namespace: string;
}

/** Shows an argv (and its environment) as a line a POSIX shell would run unchanged. */
export function shellLine(argv: readonly string[], env: Readonly<Record<string, string>> = {}): string {
  return [...Object.entries(env).map(([name, value]) => `${name}=${shellQuote(value)}`), ...argv.map(shellQuote)].join(' ');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
