/**
 * `npm run generate -w @dirtk/spiffe`: regenerates `gen/` from `proto/workload.proto` with buf and
 * ts-proto (the package README says why). Run it after changing the proto and commit the result; a
 * unit test fails while `gen/` differs from a fresh generation.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';

export const PACKAGE_ROOT = path.resolve(__dirname, '..');
/** The folder, relative to the package root, that holds the generated files. */
export const GENERATED_DIR = 'gen';

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

/** buf, through the @bufbuild/buf launcher, which runs the binary of its platform package. */
function buf(args: readonly string[]): void {
  const launcher = path.join(path.dirname(require.resolve('@bufbuild/buf/package.json')), 'bin', 'buf');
  execFileSync(process.execPath, [launcher, ...args], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Writes the generated files under `<outRoot>/gen`, which must not exist yet or is replaced. */
export function generate(outRoot: string): void {
  const out = path.join(outRoot, GENERATED_DIR);
  rmSync(out, { recursive: true, force: true });
  const template = {
    version: 'v2',
    plugins: [{ local: [process.execPath, require.resolve('ts-proto/protoc-gen-ts_proto')], out, opt: TS_PROTO_OPTIONS }],
  };
  buf(['generate', '--template', JSON.stringify(template)]);
}

if (require.main === module) generate(PACKAGE_ROOT);
