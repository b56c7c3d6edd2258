import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SpireControllerManager } from '../../constructs';
import { CONTROLLER_MANAGER, SERVER } from '../../spire/kubernetes/layout';
import { DIR, find, synth, VARIANT_TD, type Manifest } from './fixtures';
import { crdSchemaError } from './schemas';

function build(td = DIR) {
  let construct!: SpireControllerManager;
  const objects = synth((chart) => {
    construct = new SpireControllerManager(chart, 'ControllerManager', { trustDomain: td });
  });
  const config = parse(find(objects, 'ConfigMap', CONTROLLER_MANAGER.configMap).data[CONTROLLER_MANAGER.configFile]) as Manifest;
  return { construct, objects, config };
}


describe('SpireControllerManager', () => {
  it('matches the snapshot for dir.example', () => {
    expect(build().objects).toMatchSnapshot();
  });

  it('takes className, clusterName and entryIDPrefix from the model', () => {
    for (const td of [DIR, VARIANT_TD]) {
      const { config } = build(td);
      expect(config).toMatchObject({
        trustDomain: td.name,
        className: td.controllerManager.className,
        clusterName: td.controllerManager.clusterName,
        entryIDPrefix: td.controllerManager.entryIdPrefix,
      });
      expect(config.entryIDPrefix).not.toBe('');
    }
  });

  it("renders a config that conforms to the controllermanagerconfigs CRD's schema", () => {
    const { config } = build();
    expect(crdSchemaError(config, { strictFields: false })).toBeUndefined();
    expect(crdSchemaError({ ...config, metadata: 'spire-controller-manager' }, { strictFields: false })).toMatch(/metadata must be object/);
    expect(crdSchemaError({ ...config, apiVersion: 1 }, { strictFields: false })).toMatch(/apiVersion must be string/);
  });

  it('names its own ValidatingWebhookConfiguration and webhook Service', () => {
    const { objects, config } = build();
    const vwc = find(objects, 'ValidatingWebhookConfiguration', config.validatingWebhookConfigurationName);
    const service = find(objects, 'Service', CONTROLLER_MANAGER.webhookService);
    for (const webhook of vwc.webhooks) {
      expect(webhook.clientConfig.service).toMatchObject({ name: service.metadata.name, namespace: service.metadata.namespace, port: 443 });
    }
  });

  it('fails closed (failurePolicy Fail) and carries no caBundle (the controller patches it)', () => {
    const vwc = find(build().objects, 'ValidatingWebhookConfiguration', CONTROLLER_MANAGER.webhookConfiguration);
    expect(vwc.metadata).not.toHaveProperty('namespace');
    expect(vwc.webhooks.map((w: Manifest) => w.name)).toEqual(['vclusterfederatedtrustdomain.kb.io', 'vclusterspiffeid.kb.io']);
    for (const webhook of vwc.webhooks) {
      expect(webhook.failurePolicy).toBe('Fail');
      expect(webhook.sideEffects).toBe('None');
      expect(webhook.clientConfig).not.toHaveProperty('caBundle');
    }
  });

  it('routes the webhook Service to the sidecar webhook port', () => {
    const { construct, objects, config } = build();
    const port = find(objects, 'Service', CONTROLLER_MANAGER.webhookService).spec.ports[0];
    const containerPort = construct.container.ports!.find((p) => p.name === port.targetPort);
    expect(containerPort?.containerPort).toBe(config.webhook.port);
  });

  it('is ready only once its fail-closed webhook listens on the port the Service routes to', () => {
    const { construct, objects } = build();
    const port = find(objects, 'Service', CONTROLLER_MANAGER.webhookService).spec.ports[0];
    expect(construct.container.readinessProbe?.tcpSocket?.port.value).toBe(port.targetPort);
  });

  it('grants exactly the reconciler permissions, bound to the server service account', () => {
    const { objects } = build();
    const name = `${DIR.namespaces.spire}-${CONTROLLER_MANAGER.name}`;
    const all = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    const kinds = ['clusterfederatedtrustdomains', 'clusterspiffeids', 'clusterstaticentries'];
    expect(find(objects, 'ClusterRole', name).rules).toEqual([
      { apiGroups: [''], resources: ['namespaces', 'nodes', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['get', 'list', 'patch', 'watch'] },
      { apiGroups: ['spire.spiffe.io'], resources: kinds, verbs: all },
      { apiGroups: ['spire.spiffe.io'], resources: kinds.map((k) => `${k}/finalizers`), verbs: ['update'] },
      { apiGroups: ['spire.spiffe.io'], resources: kinds.map((k) => `${k}/status`), verbs: ['get', 'patch', 'update'] },
    ]);
    const leaderElection = find(objects, 'Role', `${CONTROLLER_MANAGER.name}-leader-election`);
    expect(leaderElection.metadata.namespace).toBe(DIR.namespaces.spire);
    expect(leaderElection.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: all },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: all },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    const subject = { kind: 'ServiceAccount', name: SERVER.serviceAccount, namespace: DIR.namespaces.spire };
    expect(find(objects, 'ClusterRoleBinding', name).subjects).toEqual([subject]);
    expect(find(objects, 'RoleBinding', `${CONTROLLER_MANAGER.name}-leader-election`).subjects).toEqual([subject]);
  });

  it('defines a hardened, non-root sidecar that mounts its config and leaves the socket to its pod', () => {
    const { construct, config } = build();
    const container = construct.container;
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.args).toEqual([`--config=${CONTROLLER_MANAGER.configDir}/${CONTROLLER_MANAGER.configFile}`]);
    expect(container.env).toContainEqual({ name: 'ENABLE_WEBHOOKS', value: 'true' });
    expect(container.volumeMounts!.map((m) => m.mountPath)).not.toContain(SERVER.socketDir);
    expect(config.spireServerSocketPath.startsWith(`${SERVER.socketDir}/`)).toBe(true);
    const mounted = container.volumeMounts!.map((m) => m.name);
    expect(construct.volumes.map((v) => v.name).sort()).toEqual([...mounted].sort());
  });
});
