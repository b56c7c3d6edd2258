import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_API_SERVER, DIRECTORY_REGISTRY, trustDomainManifests } from '../../constructs';
import { REGISTRY_SPEC } from '../constructs/fixtures';
import { isSpireResource } from '../../constructs/manifests';
import { EXAMPLE_FEDERATION, resolveTopology } from '../../topology';
import { runStack, SECRET_SIG, SECRET_VALUE_SIG, UNKNOWN } from './harness';

const EXAMPLE = resolveTopology(EXAMPLE_FEDERATION);
const PEER_STACK = 'organization/dirtk/dirctl-example';
const DIR_CONFIG = {
  'dirtk:trustDomain': 'dir.example',
  'dirtk:kubeContext': 'kind-dir-example',
  'dirtk:peerStacks': { 'dirctl.example': PEER_STACK },
};
const DIRCTL_BUNDLE = JSON.stringify({ keys: [{ use: 'x509-svid', kty: 'EC', crv: 'P-256', x: 'x', y: 'y', x5c: ['MIIB'] }], spiffe_sequence: 1 });
const DIR_BUNDLE = JSON.stringify({ keys: [], spiffe_sequence: 7 });

const PROVIDER = 'pulumi:providers:kubernetes';
const CONFIG_GROUP = 'kubernetes:yaml/v2:ConfigGroup';
const CFTD = 'kubernetes:spire.spiffe.io/v1alpha1:ClusterFederatedTrustDomain';
const CONFIG_MAP = 'kubernetes:core/v1:ConfigMap';
const STACK_REFERENCE = 'pulumi:pulumi:StackReference';

type Manifest = Record<string, any>;

/** Objects of the second group: SPIRE custom resources and the Directory workloads that need their identities. */
const later = (obj: Manifest) => isSpireResource(obj) || obj.metadata?.namespace === 'dir';

/**
 * The two ConfigGroups: SPIRE first, then (the webhook fails closed until the controller manager serves)
 * the SPIRE custom resources with the Directory workloads, which become ready only with those identities.
 */
function groups(run: { all(type: string): Array<{ name: string; inputs: Manifest }> }): { workloads: Manifest; spireResources: Manifest } {
  const all = run.all(CONFIG_GROUP);
  expect(all.map((group) => group.name)).toEqual(['dir.example', 'dir.example-identities']);
  return { workloads: all[0]!.inputs, spireResources: all[1]!.inputs };
}

/** What the stack applies through its ConfigGroups, as the synthesized order would list it. */
function applied(run: Parameters<typeof groups>[0], manifests: Manifest[]): Manifest[] {
  const { workloads, spireResources } = groups(run);
  expect(workloads.objs.some(later)).toBe(false);
  expect(spireResources.objs.every(later)).toBe(true);
  expect(spireResources.objs.some((obj: Manifest) => obj.kind === 'Deployment')).toBe(true);
  const key = (obj: Manifest) => `${obj.kind} ${obj.metadata?.namespace ?? ''} ${obj.metadata?.name}`;
  const byKey = new Map([...workloads.objs, ...spireResources.objs].map((obj: Manifest) => [key(obj), obj]));
  expect(byKey.size).toBe(workloads.objs.length + spireResources.objs.length);
  return manifests.flatMap((manifest) => (byKey.has(key(manifest)) ? [byKey.get(key(manifest))!] : []));
}

function isDirctlCftd(obj: Manifest): boolean {
  return obj.kind === 'ClusterFederatedTrustDomain' && obj.metadata?.name === 'dirctl.example';
}


describe('the trust domain stack', () => {
  it('deploys through an explicit provider for the configured kube context, never the ambient one', async () => {
    const run = await runStack({ config: DIR_CONFIG, stacks: { [PEER_STACK]: { trustDomain: 'dirctl.example', trustBundle: DIRCTL_BUNDLE } } });
    const provider = run.one(PROVIDER);
    expect(provider.inputs.context).toBe('kind-dir-example');
    const providerRef = `urn:pulumi:test::dirtk::${PROVIDER}::${provider.name}::${provider.name}-id`;
    for (const resource of [...run.all(CONFIG_GROUP), run.one(CFTD), run.one(CONFIG_MAP)]) {
      expect(resource.provider, resource.type).toBe(providerRef);
    }
  });

  it('applies exactly the synthesized manifests, less the CFTD of a peer whose stack supplies the bundle', async () => {
    const manifests = trustDomainManifests(EXAMPLE, 'dir.example');
    expect(manifests.filter(isDirctlCftd)).toHaveLength(1);

    const withPeer = await runStack({ config: DIR_CONFIG });
    const { workloads, spireResources } = groups(withPeer);
    expect(workloads.objs.length + spireResources.objs.length).toBe(manifests.length - 1);
    expect(applied(withPeer, manifests)).toEqual(manifests.filter((obj) => !isDirctlCftd(obj)));

    const withoutPeer = await runStack({ config: { ...DIR_CONFIG, 'dirtk:peerStacks': {} } });
    expect(applied(withoutPeer, manifests)).toEqual(manifests);
    expect(withoutPeer.all(STACK_REFERENCE)).toEqual([]);
  });

  it('seeds the peer CFTD with the trust bundle the peer stack exports', async () => {
    const run = await runStack({ config: DIR_CONFIG, stacks: { [PEER_STACK]: { trustDomain: 'dirctl.example', trustBundle: DIRCTL_BUNDLE } } });
    expect(run.one(STACK_REFERENCE).inputs.name).toBe(PEER_STACK);
    const cftd = run.one(CFTD).inputs;
    expect(cftd.metadata).toEqual({ name: 'dirctl.example' });
    expect(cftd.spec).toEqual({
      trustDomain: 'dirctl.example',
      bundleEndpointURL: 'https://dirctl-example-control-plane:32443',
      bundleEndpointProfile: { type: 'https_spiffe', endpointSPIFFEID: 'spiffe://dirctl.example/spire/server' },
      trustDomainBundle: DIRCTL_BUNDLE,
      className: 'dir-spire',
    });
  });

  it('keeps the CFTD a topology seeds (zero-touch bootstrap) in the applied objects, whatever the peer stack exports', async () => {
    const seededBundle = '{"keys":[],"spiffe_sequence":1}';
    const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-stack-topology-'));
    const file = path.join(dir, 'topology.json');
    const spec = {
      trustDomains: EXAMPLE_FEDERATION.trustDomains.map((td) => ({
        ...td,
        federatesWith: td.federatesWith?.map((edge) => ({ ...edge, trustDomainBundle: seededBundle })),
      })),
    };
    writeFileSync(file, JSON.stringify(spec));
    process.env.DIRTK_TOPOLOGY = file;
    try {
      const run = await runStack({ config: DIR_CONFIG, stacks: { [PEER_STACK]: { trustDomain: 'dirctl.example', trustBundle: DIRCTL_BUNDLE } } });
      const cftds = (groups(run).spireResources.objs as Array<Record<string, unknown>>).filter(isDirctlCftd);
      expect(cftds).toHaveLength(1);
      expect((cftds[0]!.spec as { trustDomainBundle?: string }).trustDomainBundle).toBe(seededBundle);
      expect(run.all(CFTD)).toEqual([]);
    } finally {
      delete process.env.DIRTK_TOPOLOGY;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deploys a Directory on the registry store with its registry and token realm, never the token key Secret', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-stack-topology-'));
    const file = path.join(dir, 'topology.json');
    writeFileSync(file, JSON.stringify(REGISTRY_SPEC));
    process.env.DIRTK_TOPOLOGY = file;
    try {
      const run = await runStack({ config: DIR_CONFIG, stacks: { [PEER_STACK]: { trustDomain: 'dirctl.example', trustBundle: DIRCTL_BUNDLE } } });
      const objs = [...groups(run).workloads.objs, ...groups(run).spireResources.objs] as Manifest[];
      const names = (kind: string) => objs.filter((obj) => obj.kind === kind).map((obj) => obj.metadata.name as string);
      expect(names('Deployment')).toEqual(expect.arrayContaining([DIRECTORY_API_SERVER.name, DIRECTORY_REGISTRY.name]));
      expect(names('Service')).toEqual(expect.arrayContaining([DIRECTORY_API_SERVER.name, DIRECTORY_API_SERVER.tokenServiceName, DIRECTORY_REGISTRY.name]));
      expect(names('ConfigMap')).toContain(DIRECTORY_REGISTRY.configMap);
      expect(names('Secret')).toEqual([]);
      expect(JSON.stringify(objs)).not.toContain('PRIVATE KEY');
    } finally {
      delete process.env.DIRTK_TOPOLOGY;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a peer bundle exported as a secret secret', async () => {
    const run = await runStack({
      config: DIR_CONFIG,
      stacks: { [PEER_STACK]: { trustDomain: 'dirctl.example', trustBundle: pulumi.secret(DIRCTL_BUNDLE) } },
    });
    const spec = run.one(CFTD).inputs.spec;
    expect(spec[SECRET_SIG]).toBe(SECRET_VALUE_SIG);
    expect(spec.value.trustDomainBundle).toBe(DIRCTL_BUNDLE);
  });

  it('creates no CFTD for a peer whose stack exports no bundle yet, and still succeeds', async () => {
    for (const outputs of [{}, { trustDomain: 'dirctl.example' }]) {
      const run = await runStack({ config: DIR_CONFIG, stacks: { [PEER_STACK]: outputs } });
      expect(run.all(CFTD)).toEqual([]);
      expect(run.one(STACK_REFERENCE).inputs.name).toBe(PEER_STACK);
      expect(groups(run).spireResources.objs.some(isDirctlCftd)).toBe(false);
    }
  });

  it('exports the trust domain, its bundle endpoint URL, its published trust bundle and the kube context', async () => {
    const run = await runStack({ config: DIR_CONFIG, bundleConfigMapData: { 'bundle.spiffe': DIR_BUNDLE } });
    expect(run.outputs).toEqual({
      trustDomain: 'dir.example',
      bundleEndpointUrl: 'https://dir-example-control-plane:32443',
      trustBundle: DIR_BUNDLE,
      kubeContext: 'kind-dir-example',
    });
    expect(run.one(CONFIG_MAP).id).toBe('spire-agent/spire-bundle');
  });

  it('exports no trust bundle while the server has published none', async () => {
    const run = await runStack({ config: DIR_CONFIG, bundleConfigMapData: {} });
    expect(run.outputs.trustBundle).toBeUndefined();
  });

  it('does not read the bundle ConfigMap in a preview, which may run before the server exists', async () => {
    const run = await runStack({ config: DIR_CONFIG, preview: true });
    expect(run.all(CONFIG_MAP)).toEqual([]);
    expect(run.outputs.trustBundle).toBe(UNKNOWN);
  });

  it('with dirtk:skipAwait, does not wait for workloads nor read a bundle no server can publish', async () => {
    const run = await runStack({ config: { ...DIR_CONFIG, 'dirtk:skipAwait': 'true' } });
    expect(run.all(CONFIG_GROUP).map((group) => group.inputs.skipAwait)).toEqual([true, true]);
    expect(run.all(CONFIG_MAP)).toEqual([]);
    expect(run.outputs.trustBundle).toBeUndefined();

    const awaited = await runStack({ config: DIR_CONFIG });
    expect(awaited.all(CONFIG_GROUP).map((group) => group.inputs.skipAwait)).toEqual([false, false]);
  });

  it('leaves the webhook caBundle the controller manager patches at run time to it', async () => {
    const run = await runStack({ config: DIR_CONFIG });
    const [transform, ...others] = run.all(CONFIG_GROUP)[0]!.transforms ?? [];
    expect(transform).toBeDefined();
    expect(others).toEqual([]);
    const args = (type: string) => ({ custom: true, type, name: 'x', props: {}, opts: { ignoreChanges: ['metadata.labels'] } });
    const webhook = await transform!(args('kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration'));
    expect(webhook?.opts.ignoreChanges).toEqual(['metadata.labels', 'webhooks[*].clientConfig.caBundle']);
    expect(await transform!(args('kubernetes:apps/v1:StatefulSet'))).toBeUndefined();
  });

  it('fails on an unknown trust domain, naming the known ones', async () => {
    await expect(runStack({ config: { ...DIR_CONFIG, 'dirtk:trustDomain': 'nope.example' } })).rejects.toThrow(
      'dirtk:trustDomain "nope.example" is not in the topology; known trust domains: dir.example, dirctl.example',
    );
  });

  it('fails when a peer stack deploys another trust domain than the one it is configured for', async () => {
    await expect(
      runStack({ config: DIR_CONFIG, stacks: { [PEER_STACK]: { trustDomain: 'dir.example', trustBundle: DIR_BUNDLE } } }),
    ).rejects.toThrow(`dirtk:peerStacks maps "dirctl.example" to stack ${PEER_STACK}, but that stack deploys "dir.example"`);
  });

  it('fails when a peer stack exports a trust bundle that is not SPIFFE bundle JSON text', async () => {
    await expect(runStack({ config: DIR_CONFIG, stacks: { [PEER_STACK]: { trustBundle: { keys: [] } } } })).rejects.toThrow(
      `stack ${PEER_STACK} exports a trustBundle that is not a string (SPIFFE bundle JSON); it cannot seed the federation with "dirctl.example"`,
    );
  });
});
