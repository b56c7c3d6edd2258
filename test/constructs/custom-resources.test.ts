import { describe, expect, it } from 'vitest';
import {
  ClusterFederatedTrustDomain,
  ClusterFederatedTrustDomainSpecBundleEndpointProfileType as ProfileType,
  ClusterSpiffeid,
  ClusterStaticEntry,
  type ClusterFederatedTrustDomainProps,
  type ClusterSpiffeidProps,
  type ClusterStaticEntryProps,
} from '../../constructs';
import { synth } from './fixtures';
import { crdSchemaError } from './schemas';

const CFTD: ClusterFederatedTrustDomainProps = {
  metadata: { name: 'dirctl.example' },
  spec: {
    trustDomain: 'dirctl.example',
    bundleEndpointUrl: 'https://dirctl-example-control-plane:32443',
    bundleEndpointProfile: { type: ProfileType.HTTPS_UNDERSCORE_SPIFFE, endpointSpiffeid: 'spiffe://dirctl.example/spire/server' },
    trustDomainBundle: '{"keys":[]}',
    className: 'dir-spire',
  },
};

const CSID: ClusterSpiffeidProps = {
  metadata: { name: 'dir-apiserver' },
  spec: {
    spiffeIdTemplate: 'spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}',
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'dir-apiserver' } },
    namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['dir'] }] },
    dnsNameTemplates: ['dir-apiserver.dir.svc'],
    workloadSelectorTemplates: ['k8s:container-name:apiserver'],
    federatesWith: ['dirctl.example'],
    ttl: '1h',
    jwtTtl: '5m',
    autoPopulateDnsNames: true,
    fallback: false,
    hint: 'apiserver',
    className: 'dir-spire',
  },
};

const CSE: ClusterStaticEntryProps = {
  metadata: { name: 'node-alias' },
  spec: {
    spiffeId: 'spiffe://dir.example/node-alias',
    parentId: 'spiffe://dir.example/spire/server',
    selectors: ['k8s_psat:cluster:dir-example'],
    federatesWith: ['dirctl.example'],
    x509Svidttl: '1h',
    jwtSvidttl: '5m',
    dnsNames: ['node.dir.example'],
    hint: 'alias',
    admin: false,
    downstream: false,
    storeSvid: false,
    className: 'dir-spire',
  },
};

const CASES = [
  { kind: 'ClusterFederatedTrustDomain', props: CFTD, type: ClusterFederatedTrustDomain },
  { kind: 'ClusterSPIFFEID', props: CSID, type: ClusterSpiffeid },
  { kind: 'ClusterStaticEntry', props: CSE, type: ClusterStaticEntry },
] as const;


describe.each(CASES)('$kind', ({ kind, props, type }) => {
  const synthesized = () => synth((chart) => new type(chart, 'Resource', props as never));

  it('synthesizes the spire.spiffe.io/v1alpha1 object, cluster-scoped', () => {
    const objects = synthesized();
    expect(objects).toMatchSnapshot();
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ apiVersion: 'spire.spiffe.io/v1alpha1', kind, metadata: props.metadata });
    expect(objects[0]!.metadata).not.toHaveProperty('namespace');
  });

  it('manifest() returns the same object as plain data', () => {
    const manifest = type.manifest(props as never);
    expect(manifest).toEqual(synthesized()[0]);
    expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest);
  });

  it("conforms to the CRD's openAPIV3Schema, unknown fields rejected", () => {
    expect(crdSchemaError(type.manifest(props as never), { strictFields: true })).toBeUndefined();
  });

  it('a misspelt spec field fails the CRD schema', () => {
    const manifest = type.manifest(props as never);
    const broken = { ...manifest, spec: { ...manifest.spec, classname: 'dir-spire' } };
    expect(crdSchemaError(broken, { strictFields: true })).toMatch(/must NOT have additional properties/);
  });
});

describe('CRD schema checks reject broken objects', () => {
  it('a ClusterFederatedTrustDomain with an unknown profile type', () => {
    const broken = ClusterFederatedTrustDomain.manifest({
      ...CFTD,
      spec: { ...CFTD.spec, bundleEndpointProfile: { type: 'https' } as never },
    });
    expect(crdSchemaError(broken, { strictFields: true })).toMatch(/must be equal to one of the allowed values/);
  });

  it('a ClusterFederatedTrustDomain without a bundle endpoint URL', () => {
    const { bundleEndpointUrl: _omitted, ...spec } = CFTD.spec;
    expect(crdSchemaError(ClusterFederatedTrustDomain.manifest({ spec } as never), { strictFields: true })).toMatch(
      /must have required property 'bundleEndpointURL'/,
    );
  });

  it('a ClusterSPIFFEID whose federatesWith is not a list', () => {
    // Built from a valid manifest: the generated class cannot even render a federatesWith that is no list.
    const manifest = ClusterSpiffeid.manifest(CSID);
    const broken = { ...manifest, spec: { ...manifest.spec, federatesWith: 'dirctl.example' } };
    expect(crdSchemaError(broken, { strictFields: true })).toMatch(/federatesWith must be array/);
  });

  it('a ClusterStaticEntry without selectors', () => {
    const { selectors: _omitted, ...spec } = CSE.spec;
    expect(crdSchemaError(ClusterStaticEntry.manifest({ spec } as never), { strictFields: true })).toMatch(
      /must have required property 'selectors'/,
    );
  });
});

describe('typed specs', () => {
  it('leave out optional members that are undefined, and require metadata', () => {
    const spec = {
      trustDomain: 'web.example',
      bundleEndpointUrl: 'https://web.example',
      bundleEndpointProfile: { type: ProfileType.HTTPS_UNDERSCORE_WEB },
      trustDomainBundle: undefined,
    };
    // @ts-expect-error every object needs metadata, if only for cdk8s to fill in a name
    const withoutMetadata: ClusterFederatedTrustDomainProps = { spec };
    expect(withoutMetadata.spec).toBe(spec);
    const manifest = ClusterFederatedTrustDomain.manifest({ metadata: {}, spec });
    expect(manifest).toEqual({
      apiVersion: 'spire.spiffe.io/v1alpha1',
      kind: 'ClusterFederatedTrustDomain',
      metadata: {},
      spec: { trustDomain: 'web.example', bundleEndpointURL: 'https://web.example', bundleEndpointProfile: { type: 'https_web' } },
    });
  });
});
