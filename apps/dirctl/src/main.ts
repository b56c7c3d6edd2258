/**
 * `dirctl`: the Directory apiserver's command-line client; `dirctl --help` tells how to use it.
 */
import { runDirctl } from './cli';

runDirctl(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => {
  // Not process.exit(): it could cut off output still being written to a pipe.
  process.exitCode = code;
});
