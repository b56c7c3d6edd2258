/** Building blocks shared by the server and agent configs. */

/** SPIRE's JSON form of an HCL plugin block: `{ "<Type>": [{ "<name>": { "plugin_data": {...} } }] }`. */
export type PluginBlocks = Record<string, Array<Record<string, { plugin_data: Record<string, unknown> }>>>;

/** Adds one plugin of `type` (e.g. `NodeAttestor`) named `name` with its `plugin_data`. */
export function addPlugin(plugins: PluginBlocks, type: string, name: string, data: Record<string, unknown>): void {
  (plugins[type] ??= []).push({ [name]: { plugin_data: data } });
}

/** A labelled HCL block in JSON form, e.g. `profile "https_spiffe" {}` → `[{ "https_spiffe": {} }]`. */
export function labelledBlock(label: string, body: Record<string, unknown> = {}): Array<Record<string, Record<string, unknown>>> {
  return [{ [label]: body }];
}

/** The text SPIRE reads from `server.conf` / `agent.conf`: JSON, which its HCL parser accepts as is. */
export function serializeSpireConfig(config: object): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** The health listener (`/live`, `/ready`) and, when the placement has a metrics port, Prometheus telemetry. */
export function renderObservability(placement: {
  readonly healthAddress: string;
  readonly healthPort: number;
  readonly metricsPort?: number;
}): Record<string, unknown> {
  return {
    health_checks: {
      listener_enabled: true,
      bind_address: placement.healthAddress,
      bind_port: String(placement.healthPort),
      live_path: '/live',
      ready_path: '/ready',
    },
    ...(placement.metricsPort !== undefined && {
      telemetry: { Prometheus: { host: placement.healthAddress, port: placement.metricsPort } },
    }),
  };
}
