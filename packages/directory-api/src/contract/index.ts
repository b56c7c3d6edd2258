/**
 * What the apiserver, dirctl and the deployments must agree on besides the wire format: ports,
 * environment variables, size limits, the default authorization policy, dirctl's exit codes and the
 * request rules the Directory's protos declare.
 */
export { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, DEFAULT_REGISTRY_PORT } from './ports';
export {
  DEFAULT_REGISTRY_SERVICE,
  REGISTRY_PULL_ACTION,
  REGISTRY_TOKEN_ALGORITHM,
  REGISTRY_TOKEN_ISSUER,
  REGISTRY_TOKEN_PATH,
  registryTokenKeyId,
  type RegistryTokenPublicJwk,
  registryUsername,
} from './registry';
export { APISERVER_CONFIG_FILE_VARIABLE, APISERVER_ENVIRONMENT, apiserverEnvironment, type ApiServerSetting, type ApiServerSettings } from './environment';
export { MAX_OBJECT_BYTES, MAX_RECEIVE_MESSAGE_BYTES } from './limits';
export { type CallerRelation, DEFAULT_POLICY_RULES, type DefaultPolicyRule, defaultPolicyAllows, defaultPolicyYaml, FEDERATED_DEFAULT_METHODS } from './default-policy';
export { EXIT_FAILED, EXIT_GRPC_BASE, EXIT_OK, EXIT_SETUP, EXIT_USAGE } from './exit-codes';
export { type HostPort, parseHostPort } from './host-port';
export { parseSyncPeerEntry, syncPeerEntry } from './sync-peer';
export { CID_MAX_LENGTH, isReferrerType, REFERRER_TYPES, type ReferrerType } from './request-rules';
