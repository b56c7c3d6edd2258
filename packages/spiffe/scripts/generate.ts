/**
 * `npm run generate -w @dirtk/spiffe`: regenerates `gen/` from `proto/workload.proto` with buf and
 * ts-proto (the package README says why). Run it after changing the proto and commit the result; a
 * unit test fails while `gen/` differs from a fresh generation.
 */
import path from 'node:path';
import { GENERATED_DIR, generateTsProto, GRPC_JS_OPTIONS } from '../../../tools/ts-proto';

export const PACKAGE_ROOT = path.resolve(__dirname, '..');
export { GENERATED_DIR };

const TS_PROTO_OPTIONS = [
  ...GRPC_JS_OPTIONS,
  // Fields in camelCase (spiffeId, x509SvidKey, federatedBundles), as proto-loader's keepCase: false named them.
  'snakeToCamel=keys_json',
];

/** Writes the generated files under `<outRoot>/gen`, which must not exist yet or is replaced. */
export function generate(outRoot: string): void {
  generateTsProto(PACKAGE_ROOT, outRoot, TS_PROTO_OPTIONS);
}

if (require.main === module) generate(PACKAGE_ROOT);
