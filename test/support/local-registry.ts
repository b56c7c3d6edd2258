import { readFileSync } from 'node:fs';
import type { JsonObject } from '@dirtk/directory-api/cid';
import { registryTokenKey } from '../../apps/apiserver/src/services/registry-token-service';
import { OciRecordStore } from '../../apps/apiserver/src/store/oci/oci-records';
import { signedTokens } from '../../apps/apiserver/src/store/oci/token-sources';
import type { LocalFederation } from '../../local/federation';
import { registryService } from '../../topology/sync-peers';

/**
 * Every record in the registry of `domain`'s local Directory, each verified against its CID (a damaged
 * one throws), read with tokens signed by its apiserver's key as the apiserver itself reads them.
 */
export async function localRegistryRecords(federation: LocalFederation, domain: string): Promise<Map<string, JsonObject>> {
  const { plan } = federation.domain(domain);
  const apiserver = plan.apiserver!;
  const key = registryTokenKey(readFileSync(apiserver.registryTokenKeyFile), apiserver.registryTokenKeyFile);
  const store = new OciRecordStore({
    registryUrl: apiserver.registry.url,
    repository: 'dir',
    tokens: signedTokens({ key, service: registryService(plan.td), repository: 'dir', spiffeId: apiserver.spiffeId }),
  });
  const records = new Map<string, JsonObject>();
  for (const cid of await store.cids()) records.set(cid, await store.get(cid));
  return records;
}
