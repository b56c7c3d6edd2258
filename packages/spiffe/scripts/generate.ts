/**
 * `npm run generate -w @dirtk/spiffe`: regenerates `gen/` from `proto/workload.proto` with buf and
 * ts-proto (the package README says why). Run it after changing the proto and commit the result; a
 * unit test fails while `gen/` differs from a fresh generation.
 */
import path from 'node:path';
import { GENERATED_DIR, generateTsProto } from '../../../tools/ts-proto';

export const PACKAGE_ROOT = path.resolve(__dirname, '..');
export { GENERATED_DIR };

const TS_PROTO_OPTIONS = [
  // Service definitions and typed server interfaces for @grpc/grpc-js.
  'outputServices=grpc-js',
  // ts-proto's client constructors are casts through `unknown`; src/workloadapi/proto.ts types the client instead.
  'outputClientImpl=false',
  // Fields in camelCase (spiffeId, x509SvidKey, federatedBundles), as proto-loader's keepCase: false named them.
  'snakeToCamel=keys_json',
  // Only the one message field (ValidateJWTSVIDResponse.claims) may be absent; scalars, lists and maps
  // always hold a value, empty by default, as with proto-loader's defaults: true.
  'useOptionals=messages',
  // google.protobuf.Struct's one enum (NullValue) as a union of its names, not a TypeScript enum.
  'stringEnums=true',
  'enumsAsLiterals=true',
  // The JWT claims Struct holds `unknown` values, which src/workloadapi/proto.ts turns into JSON.
  'useUnknownForValue=true',
  'useReadonlyTypes=true',
  // Binary encoding only: nothing uses the JSON and fromPartial helpers.
  'outputJsonMethods=false',
  'outputPartialMethods=false',
  'exportCommonSymbols=false',
  // bytes as Buffer, as proto-loader decoded them (bundles are read with toString('utf8')).
  'env=node',
  'esModuleInterop=true',
];

/** Writes the generated files under `<outRoot>/gen`, which must not exist yet or is replaced. */
export function generate(outRoot: string): void {
  generateTsProto(PACKAGE_ROOT, outRoot, TS_PROTO_OPTIONS);
}

if (require.main === module) generate(PACKAGE_ROOT);
