import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { TrustDomain } from '../topology/model';
import { serviceAccountSpiffeId } from '../topology/resolve';
import { ClusterSpiffeid } from './imports/clusterspiffeids-spire.spiffe.io';
import { workloadApiSocket, type WorkloadApiSocket } from './workload';

export interface DirectoryClientIdentityProps {
  /** The trust domain the clients belong to (from the resolved topology); they run in its directory namespace. */
  readonly trustDomain: TrustDomain;
  /**
   * The clients' service account, which becomes the path of their SPIFFE ID.
   * @default the model's `directoryClient.serviceAccount`
   */
  readonly serviceAccount?: string;
  /**
   * Trust domains whose bundles the clients receive, so that they can verify a federated apiserver. The
   * controller manager cannot create a client's registration entry while one of them has no bundle, so
   * clients get no SVID until every listed peer's bundle is known: seed `trustDomainBundle` on the
   * federation edges to avoid that wait.
   * @default - every peer the trust domain federates with
   */
  readonly federatesWith?: readonly string[];
}

/**
 * The identity of Directory clients (`dirctl`) in a trust domain: a ServiceAccount in the directory
 * namespace and a ClusterSPIFFEID that gives every pod running as it
 * `spiffe://<td>/ns/<namespace>/sa/<service account>`.
 *
 * The ClusterSPIFFEID selects the whole directory namespace, and its registration entries require the
 * `k8s:ns:` and `k8s:sa:` selectors, so only pods of this service account can obtain the SVID. The ID's
 * path is fixed rather than rendered from the pod's service account: an entry made for another pod in the
 * namespace names the client ID that pod cannot obtain, never another workload's ID.
 *
 * The service account has no API token. A client pod runs as it and mounts `workloadApi`, e.g.:
 *
 * ```ts
 * { serviceAccountName: client.serviceAccountName, volumes: [client.workloadApi.volume],
 *   containers: [{ ..., env: [client.workloadApi.env], volumeMounts: [client.workloadApi.volumeMount] }] }
 * ```
 */
export class DirectoryClientIdentity extends Construct {
  /** The SPIFFE ID client pods get. */
  public readonly spiffeId: string;
  public readonly serviceAccountName: string;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly clusterSpiffeId: ClusterSpiffeid;
  /** The Workload API volume, mount and endpoint variable a client pod needs. */
  public readonly workloadApi: WorkloadApiSocket;

  public constructor(scope: Construct, id: string, props: DirectoryClientIdentityProps) {
    super(scope, id);
    const td = props.trustDomain;
    const namespace = td.namespaces.directory;
    const serviceAccount = props.serviceAccount ?? td.directoryClient.serviceAccount;
    this.serviceAccountName = serviceAccount;
    this.spiffeId = serviceAccountSpiffeId(td.id, namespace, serviceAccount);
    this.workloadApi = workloadApiSocket(td);

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: serviceAccount, namespace },
      automountServiceAccountToken: false,
    });

    const federatesWith = props.federatesWith ?? td.federatesWith.map((edge) => edge.trustDomain);
    this.clusterSpiffeId = new ClusterSpiffeid(this, 'ClusterSPIFFEID', {
      metadata: { name: `${namespace}-${serviceAccount}` },
      spec: {
        spiffeIdTemplate: `spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/${serviceAccount}`,
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        workloadSelectorTemplates: [`k8s:ns:${namespace}`, `k8s:sa:${serviceAccount}`],
        ...(federatesWith.length > 0 && { federatesWith: [...federatesWith] }),
        className: td.controllerManager.className,
      },
    });
  }
}
