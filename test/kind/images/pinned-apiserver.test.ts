import { describe, expect, it } from 'vitest';
import { pinnedNames } from '../../../kind/images/pinned-apiserver';
import { resolveTopology } from '../../../topology';

describe('the apiserver image pinned by its ID', () => {
  const imageId = `sha256:${'0123456789abcdef'.repeat(4)}`;

  it('is tagged with the first 16 hex digits of its ID, and so is its impostor', () => {
    expect(pinnedNames(imageId)).toEqual({ image: 'dirtk/apiserver:0123456789abcdef', imageId, impostor: 'dirtk/apiserver-impostor:0123456789abcdef' });
  });

  it('gives names and an ID the topology accepts', () => {
    const { image } = pinnedNames(imageId);
    const apiserver = resolveTopology({ trustDomains: [{ name: 'a.example', clusterName: 'a', apiserver: { image, imageId } }] }).trustDomains[0]!.apiserver!;
    expect(apiserver).toMatchObject({ image, imageId });
  });

  it('refuses anything docker should not have reported', () => {
    expect(() => pinnedNames('sha256:abc')).toThrow(/expected sha256:<64 hex digits>/);
    expect(() => pinnedNames(`sha512:${'0'.repeat(64)}`)).toThrow(/expected sha256/);
  });
});
