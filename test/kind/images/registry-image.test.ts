import { describe, expect, it } from 'vitest';
import { REGISTRY_IMAGE } from '../../../constructs';
import { CLUSTER_WORKLOAD_IMAGES } from '../../../kind/images/load';
import { registryImageKey } from '../../../kind/images/registry-image';

describe('the registry image recipe', () => {
  it('is keyed by its base and its binary, apart from every other image', () => {
    const key = registryImageKey('base-a', 'binary-a');
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(registryImageKey('base-a', 'binary-a')).toBe(key);
    expect(registryImageKey('base-b', 'binary-a')).not.toBe(key);
    expect(registryImageKey('base-a', 'binary-b')).not.toBe(key);
  });

  it('is loaded into every cluster under the tag the manifests name', () => {
    expect(CLUSTER_WORKLOAD_IMAGES).toContain(REGISTRY_IMAGE.tag);
  });
});
