import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { readStackConfig, StackConfigError } from '../../stacks/config';
import { EXAMPLE_FEDERATION, resolveTopology } from '../../topology';

const EXAMPLE = resolveTopology(EXAMPLE_FEDERATION);
const VALID = {
  'dirtk:trustDomain': 'dir.example',
  'dirtk:kubeContext': 'kind-dir-example',
  'dirtk:peerStacks': '{"dirctl.example": "organization/dirtk/dirctl-example"}',
};

function read(config: Record<string, string | undefined>) {
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).filter((entry): entry is [string, string] => entry[1] !== undefined)));
  return readStackConfig(EXAMPLE);
}

function problems(config: Record<string, string | undefined>): readonly string[] {
  try {
    read(config);
  } catch (error) {
    if (error instanceof StackConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a StackConfigError');
}

describe('readStackConfig', () => {
  it('reads the trust domain from the topology, the kube context and the peer stacks', () => {
    const config = read(VALID);
    expect(config.trustDomain).toBe(EXAMPLE.trustDomains[0]);
    expect(config.kubeContext).toBe('kind-dir-example');
    expect(config.peerStacks).toEqual({ 'dirctl.example': 'organization/dirtk/dirctl-example' });
    expect(config.skipAwait).toBe(false);
  });

  it('defaults to no peer stacks', () => {
    expect(read({ ...VALID, 'dirtk:peerStacks': undefined }).peerStacks).toEqual({});
  });

  it('names the known trust domains when dirtk:trustDomain is missing or unknown', () => {
    expect(problems({ ...VALID, 'dirtk:trustDomain': undefined })).toEqual([
      "dirtk:trustDomain is not set; set it to one of the topology's trust domains: dir.example, dirctl.example",
    ]);
    expect(problems({ ...VALID, 'dirtk:trustDomain': 'spiffe://dir.example' })).toEqual([
      'dirtk:trustDomain "spiffe://dir.example" is not in the topology; known trust domains: dir.example, dirctl.example',
    ]);
  });

  it("suggests the Kind context of the domain's cluster when dirtk:kubeContext is missing", () => {
    expect(problems({ ...VALID, 'dirtk:kubeContext': ' ' })).toEqual([
      "dirtk:kubeContext is not set; set it to the kubeconfig context of the trust domain's cluster, e.g. kind-dir-example",
    ]);
  });

  it('rejects peer stacks that are not a map, name a domain that is no peer, or give no stack', () => {
    expect(problems({ ...VALID, 'dirtk:peerStacks': '["organization/dirtk/dirctl-example"]' })).toEqual([
      'dirtk:peerStacks must map peer trust domains to stack names, e.g. {"dirctl.example": "organization/dirtk/dirctl-example"}',
    ]);
    expect(problems({ ...VALID, 'dirtk:peerStacks': '{"other.example": "organization/dirtk/other", "dirctl.example": ""}' })).toEqual([
      'dirtk:peerStacks names "other.example", which dir.example does not federate with; its peers: dirctl.example',
      'dirtk:peerStacks["dirctl.example"] must be a stack name such as organization/dirtk/<stack>',
    ]);
  });

  it('reports every problem at once', () => {
    expect(() => read({ 'dirtk:peerStacks': '[]' })).toThrow(
      [
        'invalid stack configuration:',
        "  - dirtk:trustDomain is not set; set it to one of the topology's trust domains: dir.example, dirctl.example",
        "  - dirtk:kubeContext is not set; set it to the kubeconfig context of the trust domain's cluster, e.g. kind-<cluster name>",
        '  - dirtk:peerStacks must map peer trust domains to stack names, e.g. {"dirctl.example": "organization/dirtk/dirctl-example"}',
      ].join('\n'),
    );
  });
});
