import { describe, expect, it } from 'vitest';
import { FederatedTrustDomain, type FederatedTrustDomainProps } from '../../constructs';
import { DIR, DIRCTL, synth, VARIANT_TD } from './fixtures';
import { crdSchemaError } from './schemas';
import type { TrustDomain } from '../../topology';

function build(td: TrustDomain) {
  return synth((chart) => td.federatesWith.forEach((edge) => new FederatedTrustDomain(chart, edge.trustDomain, { trustDomain: td, edge })));
}


describe('FederatedTrustDomain', () => {
  it('matches the snapshots for the example federation', () => {
    expect(build(DIR)).toMatchSnapshot();
    expect(build(DIRCTL)).toMatchSnapshot();
  });

  it('renders one cluster-scoped ClusterFederatedTrustDomain per edge, of the controller manager class', () => {
    for (const td of [DIR, DIRCTL, VARIANT_TD]) {
      const objects = build(td);
      expect(objects.map((o) => o.spec.trustDomain)).toEqual(td.federatesWith.map((edge) => edge.trustDomain));
      for (const object of objects) {
        expect(object.kind).toBe('ClusterFederatedTrustDomain');
        expect(object.metadata).not.toHaveProperty('namespace');
        expect(object.spec.className).toBe(td.controllerManager.className);
        expect(crdSchemaError(object, { strictFields: true })).toBeUndefined();
      }
    }
  });

  it('names the peer endpoint SPIFFE ID for https_spiffe, and sets no bundle it does not know', () => {
    const [object] = build(DIR);
    expect(object).toEqual({
      apiVersion: 'spire.spiffe.io/v1alpha1',
      kind: 'ClusterFederatedTrustDomain',
      metadata: { name: 'dirctl.example' },
      spec: {
        trustDomain: 'dirctl.example',
        bundleEndpointURL: 'https://dirctl-example-control-plane:32443',
        bundleEndpointProfile: { type: 'https_spiffe', endpointSPIFFEID: 'spiffe://dirctl.example/spire/server' },
        className: 'dir-spire',
      },
    });
  });

  it('seeds the peer bundle when the edge has one, and gives https_web peers no SPIFFE ID', () => {
    const [seeded, web] = build(VARIANT_TD);
    expect(seeded!.spec.trustDomainBundle).toBe('{"keys":[]}');
    expect(web!.metadata.name).toBe('web-peer.example');
    expect(web!.spec).toEqual({
      trustDomain: 'web_peer.example',
      bundleEndpointURL: 'https://bundle.web-peer.example',
      bundleEndpointProfile: { type: 'https_web' },
      className: 'variant-spire',
    });
  });

  it('manifest() gives the same object, and takes a bundle learnt later', () => {
    const edge = DIR.federatesWith[0]!;
    expect(FederatedTrustDomain.manifest({ trustDomain: DIR, edge })).toEqual(build(DIR)[0]);
    const seeded = FederatedTrustDomain.manifest({ trustDomain: DIR, edge: { ...edge, trustDomainBundle: '{"keys":[]}' } });
    expect(seeded.spec.trustDomainBundle).toBe('{"keys":[]}');
  });

  it('forbids an endpoint SPIFFE ID with https_web and requires one with https_spiffe (compile-time)', () => {
    const peer = { trustDomain: 'web.example', bundleEndpointUrl: 'https://web.example' };
    const web: FederatedTrustDomainProps['edge'] = {
      ...peer,
      profile: 'https_web',
      // @ts-expect-error https_web endpoints are authenticated by Web PKI, not a SPIFFE ID
      endpointSpiffeId: 'spiffe://web.example/spire/server',
    };
    // @ts-expect-error https_spiffe needs the SPIFFE ID the endpoint presents
    const spiffe: FederatedTrustDomainProps['edge'] = { ...peer, profile: 'https_spiffe' };
    expect([web.profile, spiffe.profile]).toEqual(['https_web', 'https_spiffe']);
  });
});
