/**
 * Go may fetch modules only through the Go module proxy. By default `GOPROXY` ends in `direct`, which lets
 * the go command clone a module's repository from its origin (GitHub and the like) when the proxy refuses
 * it; nothing may leave this machine that way. Every entry point that runs `go` calls this first, and the
 * go commands it starts inherit the setting.
 */
const DEFAULT_PROXY = 'https://proxy.golang.org';

/** `env` with VCS fetches off (`GOVCS=*:off`) and `direct` (and `off`) removed from `GOPROXY`. */
export function moduleProxyOnly(env: Readonly<Record<string, string | undefined>>): { GOPROXY: string; GOVCS: string } {
  const proxies = (env.GOPROXY ?? DEFAULT_PROXY)
    .split(/[,|]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && entry !== 'direct' && entry !== 'off');
  return { GOPROXY: proxies.length > 0 ? proxies.join(',') : DEFAULT_PROXY, GOVCS: '*:off' };
}

/** Applies `moduleProxyOnly` to this process, so that every `go` it starts fetches through the proxy only. */
export function useModuleProxyOnly(): void {
  Object.assign(process.env, moduleProxyOnly(process.env));
}
