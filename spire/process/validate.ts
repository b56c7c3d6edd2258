/**
 * Runs the real `spire-server validate` / `spire-agent validate` on a rendered config.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installedSpire } from '../build/install';

export interface ValidationResult {
  readonly valid: boolean;
  /** What the binary printed: its verdict, or the reasons the config is invalid. */
  readonly output: string;
}

export interface ValidationOptions {
  /** Variables `-expandEnv` substitutes. */
  readonly env?: Record<string, string>;
  /**
   * Files the config names that `validate` opens (e.g. an x509pop CA bundle or a serving certificate),
   * by the path the config gives. They are written to a scratch directory and the config is pointed there.
   */
  readonly files?: Record<string, string>;
}

/** Validates a server.conf text. */
export function validateServerConfig(config: string, options: ValidationOptions = {}): Promise<ValidationResult> {
  return validate(installedSpire().serverBin, 'server.conf', config, options);
}

/** Validates an agent.conf text. */
export function validateAgentConfig(config: string, options: ValidationOptions = {}): Promise<ValidationResult> {
  return validate(installedSpire().agentBin, 'agent.conf', config, options);
}

async function validate(binary: string, fileName: string, config: string, { env = {}, files = {} }: ValidationOptions): Promise<ValidationResult> {
  const { execa } = await import('execa');
  const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-validate-'));
  try {
    let text = config;
    Object.entries(files).forEach(([original, content], index) => {
      const copy = path.join(dir, `file-${index}${path.extname(original)}`);
      writeFileSync(copy, content);
      text = text.split(JSON.stringify(original)).join(JSON.stringify(copy));
    });
    const file = path.join(dir, fileName);
    writeFileSync(file, text);
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
