/**
 * The apiserver's environment variables, by the setting each one sets (the same name as the key in
 * the YAML file `DIRTK_APISERVER_CONFIG` names). Deployments build the environment from settings,
 * so a variable's name is written once, here.
 */
export const APISERVER_ENVIRONMENT = {
  listen: 'DIRTK_APISERVER_LISTEN',
  httpListen: 'DIRTK_APISERVER_HTTP_LISTEN',
  workloadEndpoint: 'SPIFFE_ENDPOINT_SOCKET',
  svidHint: 'DIRTK_APISERVER_SVID_HINT',
  x509: 'DIRTK_APISERVER_X509',
  jwtAudiences: 'DIRTK_APISERVER_JWT_AUDIENCES',
  policyFile: 'DIRTK_APISERVER_POLICY_FILE',
  dataDir: 'DIRTK_APISERVER_DATA_DIR',
  storeRegistryUrl: 'DIRTK_APISERVER_STORE_REGISTRY_URL',
  syncPeers: 'DIRTK_APISERVER_SYNC_PEERS',
  syncMaxAttempts: 'DIRTK_APISERVER_SYNC_MAX_ATTEMPTS',
  syncRetryDelayMs: 'DIRTK_APISERVER_SYNC_RETRY_DELAY_MS',
  registryAddress: 'DIRTK_APISERVER_REGISTRY_ADDRESS',
  registryRepository: 'DIRTK_APISERVER_REGISTRY_REPOSITORY',
  registryInsecure: 'DIRTK_APISERVER_REGISTRY_INSECURE',
  credentialsSecretFile: 'DIRTK_APISERVER_CREDENTIALS_SECRET_FILE',
  registryService: 'DIRTK_APISERVER_REGISTRY_SERVICE',
  registryTokenKeyFile: 'DIRTK_APISERVER_REGISTRY_TOKEN_KEY_FILE',
  registryTokenTtlSeconds: 'DIRTK_APISERVER_REGISTRY_TOKEN_TTL_SECONDS',
  logLevel: 'DIRTK_APISERVER_LOG_LEVEL',
  readyTimeoutMs: 'DIRTK_APISERVER_READY_TIMEOUT_MS',
} as const;

export type ApiServerSetting = keyof typeof APISERVER_ENVIRONMENT;

/** The variable naming the optional YAML settings file; variables win over its keys. */
export const APISERVER_CONFIG_FILE_VARIABLE = 'DIRTK_APISERVER_CONFIG';

/** Settings as the apiserver reads them from its environment: every value a string. */
export type ApiServerSettings = { readonly [Setting in ApiServerSetting]?: string };

/** The environment variables that give the apiserver `settings`, in the order of APISERVER_ENVIRONMENT. */
export function apiserverEnvironment(settings: ApiServerSettings): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [setting, variable] of Object.entries(APISERVER_ENVIRONMENT)) {
    const value = settings[setting as ApiServerSetting];
    if (value !== undefined) environment[variable] = value;
  }
  return environment;
}
