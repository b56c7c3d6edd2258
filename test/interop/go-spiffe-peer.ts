/**
 * The go-spiffe peer of the interoperability tests (`test/interop/go-spiffe-peer/`, a Go module
 * pinned to go-spiffe and grpc-go), built and cached by go-peer-build.ts.
 */
import { GoPeerBuild } from './go-peer-build';

export { GoPeerBuildError } from './go-peer-build';

const goSpiffePeer = new GoPeerBuild('go-spiffe-peer');

export function ensureGoSpiffePeer(log?: (line: string) => void): Promise<string> {
  return goSpiffePeer.ensure(log);
}
