import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_FEDERATION, resolveTopology } from '../../topology';

const EXAMPLE = resolveTopology(EXAMPLE_FEDERATION);

beforeAll(() => pulumi.runtime.setMocks({ newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: () => ({}) }));

describe('TrustDomainDeployment', () => {
  async function deploy(trustDomain: string, peerTrustBundles: Record<string, string>) {
    const k8s = await import('@pulumi/kubernetes');
    const { TrustDomainDeployment } = await import('../../stacks/trust-domain-deployment.js');
    const provider = new k8s.Provider(`cluster-${trustDomain}`, { context: 'kind-test' });
    return new TrustDomainDeployment(trustDomain, { topology: EXAMPLE, trustDomain, provider, peerTrustBundles });
  }

  it('refuses a trust domain that is not in the topology, naming the known ones', async () => {
    await expect(deploy('nope.example', {})).rejects.toThrow(
      'trust domain "nope.example" is not in the topology; known trust domains: dir.example, dirctl.example',
    );
  });

  it('refuses to seed a relationship the trust domain does not have', async () => {
    await expect(deploy('dir.example', { 'other.example': '{"keys":[]}' })).rejects.toThrow(
      'dir.example does not federate with "other.example", so there is no relationship to seed with its bundle',
    );
  });
});
