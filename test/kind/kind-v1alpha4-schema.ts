/**
 * A strict JSON Schema of kind's `kind.x-k8s.io/v1alpha4` `Cluster`, written from sigs.k8s.io/kind v0.32.0:
 * the fields and enums of `pkg/apis/config/v1alpha4/types.go`, the Mount and PortMapping enums of
 * `yaml.go`, and the checks of `pkg/internal/apis/config/validate.go` that need no defaults (cluster name
 * pattern, node roles, kubeProxyMode values including "none", ports). kind decodes with
 * `KnownFields(true)`, so every object rejects unknown fields here too.
 */
const int32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 } as const;
const port = { type: 'integer', minimum: -1, maximum: 65535 } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

const patchJson6902 = {
  type: 'object',
  additionalProperties: false,
  properties: { group: { type: 'string' }, version: { type: 'string' }, kind: { type: 'string' }, patch: { type: 'string' } },
} as const;

const mount = {
  type: 'object',
  additionalProperties: false,
  properties: {
    containerPath: { type: 'string' },
    hostPath: { type: 'string' },
    readOnly: { type: 'boolean' },
    selinuxRelabel: { type: 'boolean' },
    propagation: { enum: ['None', 'HostToContainer', 'Bidirectional'] },
  },
} as const;

const portMapping = {
  type: 'object',
  additionalProperties: false,
  properties: {
    containerPort: port,
    hostPort: port,
    listenAddress: { type: 'string' },
    // yaml.go upper-cases the protocol before checking it.
    protocol: { type: 'string', pattern: '^([Tt][Cc][Pp]|[Uu][Dd][Pp]|[Ss][Cc][Tt][Pp])$' },
  },
} as const;

const node = {
  type: 'object',
  additionalProperties: false,
  properties: {
    role: { enum: ['control-plane', 'worker'] },
    image: { type: 'string', minLength: 1 },
    labels: stringMap,
    extraMounts: { type: 'array', items: mount },
    extraPortMappings: { type: 'array', items: portMapping },
    kubeadmConfigPatches: strings,
    kubeadmConfigPatchesJSON6902: { type: 'array', items: patchJson6902 },
  },
} as const;

const networking = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ipFamily: { enum: ['ipv4', 'ipv6', 'dual'] },
    apiServerPort: int32,
    apiServerAddress: { type: 'string' },
    podSubnet: { type: 'string' },
    serviceSubnet: { type: 'string' },
    disableDefaultCNI: { type: 'boolean' },
    kubeProxyMode: { enum: ['iptables', 'ipvs', 'nftables', 'none'] },
    dnsSearch: { anyOf: [strings, { type: 'null' }] },
  },
} as const;

export const KIND_V1ALPHA4_CLUSTER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'apiVersion'],
  properties: {
    kind: { const: 'Cluster' },
    apiVersion: { const: 'kind.x-k8s.io/v1alpha4' },
    name: { type: 'string', pattern: '^[a-z0-9.-]+$' },
    nodes: { type: 'array', items: node },
    networking,
    featureGates: { type: 'object', additionalProperties: { type: 'boolean' } },
    runtimeConfig: stringMap,
    kubeadmConfigPatches: strings,
    kubeadmConfigPatchesJSON6902: { type: 'array', items: patchJson6902 },
    containerdConfigPatches: strings,
    containerdConfigPatchesJSON6902: strings,
  },
} as const;
