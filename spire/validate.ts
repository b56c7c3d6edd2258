/**
 * Runs the real `spire-server validate` / `spire-agent validate` on a rendered config.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installedSpire } from './install';

export interface ValidationResult {
  readonly valid: boolean;
  /** What the binary printed: its verdict, or the reasons the config is invalid. */
  readonly output: string;
}

/** Validates a server.conf text; `env` supplies the variables `-expandEnv` substitutes. */
export function validateServerConfig(config: string, env: Record<string, string> = {}): Promise<ValidationResult> {
  return validate(installedSpire().serverBin, 'server.conf', config, env);
}

/** Validates an agent.conf text; `env` supplies the variables `-expandEnv` substitutes. */
export function validateAgentConfig(config: string, env: Record<string, string> = {}): Promise<ValidationResult> {
  return validate(installedSpire().agentBin, 'agent.conf', config, env);
}

async function validate(binary: string, fileName: string, config: string, env: Record<string, string>): Promise<ValidationResult> {
  const { execa } = await import('execa');
  const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-validate-'));
  try {
    const file = path.join(dir, fileName);
    writeFileSync(file, config);
    const result = await execa(binary, ['validate', '-expandEnv', '-config', file], {
      env,
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 60_000,
    });
    return { valid: result.exitCode === 0, output: result.all ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
