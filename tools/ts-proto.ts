/**
 * The generator both workspace packages with protos use (`npm run generate -w <package>`): buf, through
 * the @bufbuild/buf launcher (which runs the binary of its platform package), with ts-proto as a local
 * plugin, writing into `<out root>/gen`. Each package's `scripts/generate.ts` gives its options and why.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** The folder, relative to a package root, that holds its generated files. */
export const GENERATED_DIR = 'gen';

/**
 * The options both packages share: grpc-js service definitions and typed server interfaces; no
 * ts-proto client constructors (they are casts through `unknown`: each package types grpc-js' clients
 * itself); optional sub-messages, as the wire allows; enums as unions of their names; `unknown` for
 * google.protobuf.Value, checked by the package; readonly types; binary encoding only; bytes as Buffer.
 * Each package adds how it names fields.
 */
export const GRPC_JS_OPTIONS: readonly string[] = [
  'outputServices=grpc-js',
  'outputClientImpl=false',
  'useOptionals=messages',
  'stringEnums=true',
  'enumsAsLiterals=true',
  'useUnknownForValue=true',
  'useReadonlyTypes=true',
  'outputJsonMethods=false',
  'outputPartialMethods=false',
  'exportCommonSymbols=false',
  'env=node',
  'esModuleInterop=true',
];

/** Runs buf in `packageRoot` (where its buf.yaml is). */
export function buf(packageRoot: string, args: readonly string[]): void {
  const launcher = path.join(path.dirname(require.resolve('@bufbuild/buf/package.json')), 'bin', 'buf');
  execFileSync(process.execPath, [launcher, ...args], { cwd: packageRoot, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Writes ts-proto's code for the protos of `packageRoot` (all, or those under `paths`) into `<outRoot>/gen`, replacing it. */
export function generateTsProto(packageRoot: string, outRoot: string, options: readonly string[], paths: readonly string[] = []): string {
  const out = path.join(outRoot, GENERATED_DIR);
  rmSync(out, { recursive: true, force: true });
  const template = {
    version: 'v2',
    plugins: [{ local: [process.execPath, require.resolve('ts-proto/protoc-gen-ts_proto')], out, opt: options }],
  };
  buf(packageRoot, ['generate', '--template', JSON.stringify(template), ...paths.flatMap((p) => ['--path', p])]);
  return out;
}

/** Every file below `root`, relative to it, sorted: what a generation test compares. */
export function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}
