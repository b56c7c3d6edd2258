import { describe, expect, it } from 'vitest';
import { trustDomainManifests } from '../../constructs';
import { EXAMPLE, VARIANT, type Manifest } from './fixtures';
import { crdSchemaError, isSpireKind, kubernetesSchemaError } from './schemas';

/** Every object a cluster gets (CRDs included), checked against its own schema. */
function schemaErrors(objects: readonly Manifest[]): string[] {
  return objects.flatMap((object) => {
    const error = isSpireKind(object.kind) ? crdSchemaError(object, { strictFields: true }) : kubernetesSchemaError(object);
    return error ? [`${object.kind} ${object.metadata?.name}: ${error}`] : [];
  });
}


describe('schema validation of every synthesized object', () => {
  const domains = [
    ...EXAMPLE.trustDomains.map((td) => [td.name, EXAMPLE] as const),
    ...VARIANT.trustDomains.map((td) => [td.name, VARIANT] as const),
  ];

  it.each(domains)('%s conforms to the Kubernetes and CRD schemas', (name, topology) => {
    const objects = trustDomainManifests(topology, name) as Manifest[];
    expect(objects.length).toBeGreaterThan(20);
    expect(schemaErrors(objects)).toEqual([]);
  });

  it('rejects a workload with a mistyped field', () => {
    const [agent] = trustDomainManifests(EXAMPLE, 'dir.example').filter((o) => o.kind === 'DaemonSet') as Manifest[];
    const broken = structuredClone(agent!);
    broken.spec.template.spec.hostPID = 'true';
    expect(schemaErrors([broken])).toEqual([expect.stringMatching(/DaemonSet spire-agent: .*hostPID must be boolean/)]);
  });

  it('rejects a Service port that is not a number', () => {
    const service = trustDomainManifests(EXAMPLE, 'dir.example').find((o) => o.kind === 'Service') as Manifest;
    expect(schemaErrors([{ ...service, spec: { ...service.spec, ports: [{ port: '443' }] } }])).toEqual([
      expect.stringMatching(/port must be integer/),
    ]);
  });

  it('rejects a kind it has no schema for, so nothing goes unchecked', () => {
    expect(schemaErrors([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual([
      'Widget w: no kubernetes-models schema for example.com/v1 Widget',
    ]);
  });

  it('rejects a ClusterFederatedTrustDomain missing its profile', () => {
    const federation = trustDomainManifests(EXAMPLE, 'dir.example').find((o) => o.kind === 'ClusterFederatedTrustDomain') as Manifest;
    const { bundleEndpointProfile: _omitted, ...spec } = federation.spec;
    expect(schemaErrors([{ ...federation, spec }])).toEqual([expect.stringMatching(/must have required property 'bundleEndpointProfile'/)]);
  });
});
