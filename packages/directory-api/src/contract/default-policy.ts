/**
 * The authorization policy in force when none is configured, as data: the apiserver compiles it,
 * the Kubernetes construct renders it as the YAML policy file, and the tour and the Kind
 * verification derive the outcome they expect of each call from it.
 *
 * It is the reference's intended table, with RequestRegistryCredentials in its real package (the
 * reference ships `agntcy.dir.sync.v1`, which matches nothing, so foreign domains could never
 * negotiate sync credentials).
 */
import { StoreServiceService } from '../../gen/agntcy/dir/store/v1/store_service';
import { SyncServiceService } from '../../gen/agntcy/dir/store/v1/sync_service';

/** A caller's trust domain as the server sees it: its own, or one it federates with. */
export type CallerRelation = 'own' | 'federated';

export interface DefaultPolicyRule {
  readonly effect: 'allow';
  readonly trustDomain: CallerRelation;
  /** Full method names (`/package.Service/Method`), or `*` for every method. */
  readonly methods: readonly string[];
}

/** What callers from federated trust domains may call by default: read records and sync from this directory. */
export const FEDERATED_DEFAULT_METHODS: readonly string[] = [
  StoreServiceService.pull.path,
  StoreServiceService.lookup.path,
  StoreServiceService.pullReferrer.path,
  SyncServiceService.requestRegistryCredentials.path,
];

/** Own trust domain: every method. Federated trust domains: FEDERATED_DEFAULT_METHODS. Everyone else: nothing. */
export const DEFAULT_POLICY_RULES: readonly DefaultPolicyRule[] = [
  { effect: 'allow', trustDomain: 'own', methods: ['*'] },
  { effect: 'allow', trustDomain: 'federated', methods: FEDERATED_DEFAULT_METHODS },
];

/** Whether the default policy lets a caller of `relation` call `method` (a full method name). */
export function defaultPolicyAllows(relation: CallerRelation, method: string): boolean {
  return DEFAULT_POLICY_RULES.some((rule) => rule.trustDomain === relation && (rule.methods.includes('*') || rule.methods.includes(method)));
}

/** The default policy in the apiserver's YAML policy format. */
export function defaultPolicyYaml(): string {
  const rules = DEFAULT_POLICY_RULES.map((rule) =>
    [`  - ${rule.effect}:`, `      trustDomain: ${rule.trustDomain}`, '      methods:', ...rule.methods.map((method) => `        - ${JSON.stringify(method)}`)].join('\n'),
  );
  return `# Own trust domain: every method. Federated trust domains: read records and negotiate sync credentials.\nrules:\n${rules.join('\n')}\n`;
}
