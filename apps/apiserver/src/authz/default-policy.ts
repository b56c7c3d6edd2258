/**
 * The policy used when no policy file is configured: the reference's intended table, with
 * RequestRegistryCredentials in its real package (the reference ships `agntcy.dir.sync.v1`, which
 * matches nothing, so foreign domains could never negotiate sync credentials).
 */
import { MethodPattern } from './method-pattern';
import type { Policy } from './policy';

const SOURCE = 'default policy';

/** What callers from federated trust domains may call by default: read records and sync from this directory. */
const FEDERATED_DEFAULT_METHODS: readonly string[] = [
  '/agntcy.dir.store.v1.StoreService/Pull',
  '/agntcy.dir.store.v1.StoreService/Lookup',
  '/agntcy.dir.store.v1.StoreService/PullReferrer',
  '/agntcy.dir.store.v1.SyncService/RequestRegistryCredentials',
];

export function defaultPolicy(): Policy {
  return {
    source: SOURCE,
    rules: [
      { effect: 'allow', subject: { kind: 'own' }, methods: [MethodPattern.parse('*')], origin: `${SOURCE} rule 1` },
      {
        effect: 'allow',
        subject: { kind: 'federated' },
        methods: FEDERATED_DEFAULT_METHODS.map((method) => MethodPattern.parse(method)),
        origin: `${SOURCE} rule 2`,
      },
    ],
  };
}
