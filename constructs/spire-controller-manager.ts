import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import type { TrustDomain } from '../topology/model';
import { renderControllerManagerConfig } from '../spire/config/controller-manager-config';
import { CONTROLLER_MANAGER, SERVER } from '../spire/kubernetes/layout';
import { kubernetesControllerManagerPlacement } from '../spire/kubernetes/placement';
import { IMAGES } from '../spire/versions';
import { IMAGE_PULL_POLICY, nonRootSecurityContext, resources } from './hardening';
import { grantClusterRole, grantRole, type ClusterRoleGrant, type RoleGrant } from './rbac';
import { appLabels, httpProbes } from './workload';

export interface SpireControllerManagerProps {
  /** The trust domain whose server the controller manager drives (from the resolved topology). */
  readonly trustDomain: TrustDomain;
  /**
   * The controller manager image.
   * @default IMAGES.controllerManager
   */
  readonly image?: string;
  /**
   * Resources of the controller manager container.
   * @default 25m/32Mi requested, 250m/128Mi limit
   */
  readonly resources?: k8s.ResourceRequirements;
}

const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const READ_VERBS = ['get', 'list', 'watch'];
const SPIRE_RESOURCES = ['clusterfederatedtrustdomains', 'clusterspiffeids', 'clusterstaticentries'];
const WEBHOOK_PORT_NAME = 'webhook';
const HEALTH_PORT_NAME = 'cm-healthz';

/**
 * The SPIRE controller manager, which turns ClusterSPIFFEID, ClusterFederatedTrustDomain and
 * ClusterStaticEntry objects of its class into registration entries and federation relationships.
 *
 * It runs as a sidecar of the SPIRE server (see `SpireServerProps.controllerManager`), so this construct
 * renders everything but the pod: the container, its config (`className`, `clusterName` and `entryIDPrefix`
 * always come from the model), RBAC bound to the server's service account, and the validating webhook.
 *
 * The ValidatingWebhookConfiguration fails closed (`failurePolicy: Fail`) and has no `caBundle`: the
 * controller manager mints its own serving certificate and patches the bundle in. Until it serves, SPIRE
 * custom resources are refused, so deployers apply them after the server has rolled out (the Kind scripts
 * and the Pulumi stacks do). A deployer that manages this object must ignore changes to
 * `webhooks[*].clientConfig.caBundle`.
 */
export class SpireControllerManager extends Construct {
  /** `controller-manager-config.yaml` as the controller manager reads it. */
  public readonly config: string;
  public readonly configMap: k8s.KubeConfigMap;
  /** The sidecar container. Its pod must also mount the server API socket directory (`SERVER.socketDir`). */
  public readonly container: k8s.Container;
  /** The volumes `container` mounts, for the pod that runs it. */
  public readonly volumes: k8s.Volume[];
  /** Watches pods, nodes and namespaces; reconciles the spire.spiffe.io kinds; patches its webhook. */
  public readonly clusterRole: ClusterRoleGrant;
  /** Leader election in the SPIRE namespace. */
  public readonly leaderElectionRole: RoleGrant;
  public readonly webhookService: k8s.KubeService;
  public readonly webhookConfiguration: k8s.KubeValidatingWebhookConfiguration;

  public constructor(scope: Construct, id: string, props: SpireControllerManagerProps) {
    super(scope, id);
    const td = props.trustDomain;
    const namespace = td.namespaces.spire;
    const serviceAccount = { name: SERVER.serviceAccount, namespace };

    this.config = stringify(renderControllerManagerConfig(td, kubernetesControllerManagerPlacement(td)), { lineWidth: 0 });
    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: { name: CONTROLLER_MANAGER.configMap, namespace },
      data: { [CONTROLLER_MANAGER.configFile]: this.config },
    });

    this.volumes = [
      { name: 'spire-controller-manager-config', configMap: { name: CONTROLLER_MANAGER.configMap } },
      { name: 'spire-controller-manager-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('16Mi') } },
    ];
    this.container = {
      name: CONTROLLER_MANAGER.name,
      image: props.image ?? IMAGES.controllerManager,
      imagePullPolicy: IMAGE_PULL_POLICY,
      args: [`--config=${CONTROLLER_MANAGER.configDir}/${CONTROLLER_MANAGER.configFile}`],
      env: [{ name: 'ENABLE_WEBHOOKS', value: 'true' }],
      ports: [
        { name: WEBHOOK_PORT_NAME, containerPort: CONTROLLER_MANAGER.webhookPort, protocol: 'TCP' },
        { name: HEALTH_PORT_NAME, containerPort: CONTROLLER_MANAGER.healthPort, protocol: 'TCP' },
        { name: 'cm-metrics', containerPort: CONTROLLER_MANAGER.metricsPort, protocol: 'TCP' },
      ],
      livenessProbe: httpProbes(HEALTH_PORT_NAME, '/healthz', '/readyz').livenessProbe,
      // Ready only once the webhook listens: it fails closed, and deployers apply the SPIRE custom
      // resources as soon as this pod is ready (its /readyz is a ping that is up before the webhook).
      readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString(WEBHOOK_PORT_NAME) }, initialDelaySeconds: 2, periodSeconds: 2, timeoutSeconds: 2 },
      resources: props.resources ?? resources(['25m', '250m'], ['32Mi', '128Mi']),
      securityContext: nonRootSecurityContext(),
      volumeMounts: [
        { name: 'spire-controller-manager-config', mountPath: CONTROLLER_MANAGER.configDir, readOnly: true },
        { name: 'spire-controller-manager-tmp', mountPath: '/tmp' },
      ],
    };

    this.clusterRole = grantClusterRole(
      this,
      'Reconciler',
      `${namespace}-${CONTROLLER_MANAGER.name}`,
      [
        { apiGroups: [''], resources: ['namespaces', 'nodes', 'endpoints', 'pods'], verbs: READ_VERBS },
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          verbs: ['get', 'list', 'patch', 'watch'],
        },
        { apiGroups: ['spire.spiffe.io'], resources: SPIRE_RESOURCES, verbs: ALL_VERBS },
        { apiGroups: ['spire.spiffe.io'], resources: SPIRE_RESOURCES.map((r) => `${r}/finalizers`), verbs: ['update'] },
        { apiGroups: ['spire.spiffe.io'], resources: SPIRE_RESOURCES.map((r) => `${r}/status`), verbs: ['get', 'patch', 'update'] },
      ],
      serviceAccount,
    );
    this.leaderElectionRole = grantRole(
      this,
      'LeaderElection',
      `${CONTROLLER_MANAGER.name}-leader-election`,
      [
        { apiGroups: [''], resources: ['configmaps'], verbs: ALL_VERBS },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ALL_VERBS },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ],
      serviceAccount,
    );

    this.webhookService = new k8s.KubeService(this, 'WebhookService', {
      metadata: { name: CONTROLLER_MANAGER.webhookService, namespace },
      spec: {
        type: 'ClusterIP',
        selector: appLabels(SERVER.name),
        ports: [{ name: 'https', port: 443, targetPort: k8s.IntOrString.fromString(WEBHOOK_PORT_NAME), protocol: 'TCP' }],
      },
    });
    const webhook = (kind: string, resource: string): k8s.ValidatingWebhook => ({
      name: `v${kind}.kb.io`,
      admissionReviewVersions: ['v1'],
      clientConfig: {
        service: { name: CONTROLLER_MANAGER.webhookService, namespace, path: `/validate-spire-spiffe-io-v1alpha1-${kind}`, port: 443 },
      },
      failurePolicy: 'Fail',
      sideEffects: 'None',
      rules: [{ apiGroups: ['spire.spiffe.io'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: [resource] }],
    });
    this.webhookConfiguration = new k8s.KubeValidatingWebhookConfiguration(this, 'WebhookConfiguration', {
      metadata: { name: CONTROLLER_MANAGER.webhookConfiguration },
      webhooks: [
        webhook('clusterfederatedtrustdomain', 'clusterfederatedtrustdomains'),
        webhook('clusterspiffeid', 'clusterspiffeids'),
      ],
    });
  }
}
