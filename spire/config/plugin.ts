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
