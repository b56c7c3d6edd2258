import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DirectoryClientIdentity, SpireControllerManager, type DirectoryClientIdentityProps } from '../../constructs';
import { AGENT, CONTROLLER_MANAGER, CSI, WORKLOAD_SOCKET_DIR } from '../../spire/kubernetes/layout';
import { DIRECTORY_CLIENT_SERVICE_ACCOUNT, type TrustDomain } from '../../topology';
import { renderSpiffeIdTemplate, selects } from './assertions';
import { DIR, DIRCTL, find, ofKind, SOLO, synth, VARIANT_TD, type Manifest } from './fixtures';
import { crdSchemaError, kubernetesSchemaError } from './schemas';

function build(td: TrustDomain = DIRCTL, props: Omit<DirectoryClientIdentityProps, 'trustDomain'> = {}) {
  let construct!: DirectoryClientIdentity;
  const objects = synth((chart) => {
    construct = new DirectoryClientIdentity(chart, 'DirectoryClient', { ...props, trustDomain: td });
  });
  return { construct, objects, identity: ofKind(objects, 'ClusterSPIFFEID')[0]! };
}

const DOMAINS: TrustDomain[] = [DIR, DIRCTL, VARIANT_TD, SOLO];


describe('DirectoryClientIdentity', () => {
  it('matches the snapshot for dirctl.example', () => {
    expect(build().objects).toMatchSnapshot();
  });

  it.each(DOMAINS.map((td) => [td.name, td] as const))('%s conforms to the Kubernetes and ClusterSPIFFEID schemas', (_name, td) => {
    const errors = build(td).objects.flatMap((o) => {
      const error = o.kind === 'ClusterSPIFFEID' ? crdSchemaError(o, { strictFields: true }) : kubernetesSchemaError(o);
      return error ? [`${o.kind} ${o.metadata.name}: ${error}`] : [];
    });
    expect(errors).toEqual([]);
  });

  it('creates the dirctl service account in the directory namespace, without an API token', () => {
    for (const td of DOMAINS) {
      const { objects } = build(td);
      expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterSPIFFEID']);
      const serviceAccount = find(objects, 'ServiceAccount', DIRECTORY_CLIENT_SERVICE_ACCOUNT);
      expect(serviceAccount.metadata.namespace).toBe(td.namespaces.directory);
      expect(serviceAccount.automountServiceAccountToken).toBe(false);
    }
  });

  it('gives pods of that service account spiffe://<td>/ns/<namespace>/sa/dirctl, and only them', () => {
    for (const td of DOMAINS) {
      const { construct, identity } = build(td);
      const namespace = td.namespaces.directory;
      const expected = `spiffe://${td.name}/ns/${namespace}/sa/dirctl`;
      expect(construct.spiffeId).toBe(expected);
      const pod = { trustDomain: td.name, namespace, serviceAccount: DIRECTORY_CLIENT_SERVICE_ACCOUNT };
      expect(renderSpiffeIdTemplate(identity.spec.spiffeIDTemplate, pod)).toBe(expected);
      // Another pod in the namespace would get an entry naming the client ID, which its selectors cannot obtain.
      expect(renderSpiffeIdTemplate(identity.spec.spiffeIDTemplate, { ...pod, serviceAccount: 'other' })).toBe(expected);
      expect(identity.spec.workloadSelectorTemplates).toEqual([`k8s:ns:${namespace}`, 'k8s:sa:dirctl']);
      expect(identity.spec.workloadSelectorTemplates.join(' ')).not.toMatch(/image/);
      expect(selects(identity.spec.namespaceSelector, { 'kubernetes.io/metadata.name': namespace })).toBe(true);
      expect(selects(identity.spec.namespaceSelector, { 'kubernetes.io/metadata.name': td.namespaces.spire })).toBe(false);
      expect(identity.metadata).toEqual({ name: `${namespace}-dirctl` });
    }
  });

  it("uses the controller manager's class", () => {
    for (const td of DOMAINS) {
      const cm = synth((chart) => new SpireControllerManager(chart, 'ControllerManager', { trustDomain: td }));
      const config = parse(find(cm, 'ConfigMap', CONTROLLER_MANAGER.configMap).data[CONTROLLER_MANAGER.configFile]) as Manifest;
      expect(build(td).identity.spec.className).toBe(config.className);
    }
  });

  it("federates with exactly the domain's peers (dirctl must verify a federated apiserver)", () => {
    expect(build(DIRCTL).identity.spec.federatesWith).toEqual(['dir.example']);
    expect(build(VARIANT_TD).identity.spec.federatesWith).toEqual(VARIANT_TD.federatesWith.map((edge) => edge.trustDomain));
    expect(build(SOLO).identity.spec).not.toHaveProperty('federatesWith');
    expect(build(DIRCTL, { federatesWith: [] }).identity.spec).not.toHaveProperty('federatesWith');
  });

  it('takes another service account name', () => {
    const { construct, objects, identity } = build(DIRCTL, { serviceAccount: 'ci-client' });
    expect(construct.spiffeId).toBe(`spiffe://dirctl.example/ns/${DIRCTL.namespaces.directory}/sa/ci-client`);
    find(objects, 'ServiceAccount', 'ci-client');
    expect(identity.spec.workloadSelectorTemplates).toContain('k8s:sa:ci-client');
  });

  it('hands client pods the Workload API socket, read-only, from the host directory or the CSI driver', () => {
    const hostPath = build(VARIANT_TD).construct.workloadApi;
    expect(hostPath.volume).toEqual({ name: 'spiffe-workload-api', hostPath: { path: VARIANT_TD.agent.socketHostDir, type: 'Directory' } });
    expect(hostPath.volumeMount).toEqual({ name: 'spiffe-workload-api', mountPath: WORKLOAD_SOCKET_DIR, readOnly: true });
    expect(hostPath.env).toEqual({ name: 'SPIFFE_ENDPOINT_SOCKET', value: `unix://${WORKLOAD_SOCKET_DIR}/${AGENT.socketName}` });
    const csi = build(DIRCTL).construct.workloadApi;
    expect(csi.volume).toEqual({ name: 'spiffe-workload-api', csi: { driver: CSI.driverName, readOnly: true } });
  });
});
