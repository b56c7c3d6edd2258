/**
 * One entry of the apiserver's `syncPeers` setting: a remote Directory it may sync from, as
 * `<host:port>=<apiserver SPIFFE ID>`. The topology writes entries; the apiserver reads them.
 */
import { parseHostPort } from './host-port';

/** The entry naming the peer apiserver `spiffeId` at `address` (`host:port`). */
export function syncPeerEntry(address: string, spiffeId: string): string {
  return `${address}=${spiffeId}`;
}

/** The address and (still unparsed) SPIFFE ID of an entry, or undefined when it is not `<host:port>=<id>`. */
export function parseSyncPeerEntry(entry: string): { readonly address: string; readonly spiffeId: string } | undefined {
  const equals = entry.indexOf('=');
  const address = entry.slice(0, equals).trim();
  if (equals <= 0 || !parseHostPort(address)) return undefined;
  return { address, spiffeId: entry.slice(equals + 1).trim() };
}
