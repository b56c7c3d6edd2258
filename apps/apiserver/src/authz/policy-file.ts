/**
 * A policy file that keeps being enforced as it changes. The directory is watched rather than the
 * file, because editors replace files by rename and Kubernetes updates a mounted ConfigMap by swapping
 * a `..data` symlink; every event in the directory triggers a (debounced) re-read, and identical
 * contents are ignored. A new policy replaces the engine in one assignment, so a decision is always
 * made wholly by the old or wholly by the new policy, and calls already admitted are left alone.
 * A file that fails to read, parse or validate leaves the last good policy in force.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import type { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { parseCsvPolicy } from './csv-policy';
import { type Authorizer, AuthzEngine, type Decision } from './engine';
import { PolicyError } from './errors';
import type { Policy } from './policy';
import { validatePolicy } from './validate';
import { parseYamlPolicy } from './yaml-policy';

export interface PolicyFileOptions {
  /** A `.csv`, `.yaml` or `.yml` file. */
  readonly path: string;
  readonly ownTrustDomain: TrustDomain;
  /** The full names of the registered methods, which every policy must be valid against. */
  readonly knownMethods: readonly string[];
  /** Quiet time after the last event before re-reading; editors and ConfigMap updates touch several files. Default 100 ms. */
  readonly debounceMs?: number;
  /** A changed file was loaded and is now enforced. */
  readonly onReload?: (policy: Policy) => void;
  /** A change could not be applied, or watching failed; the previous policy stays in force. */
  readonly onError: (error: PolicyReloadError) => void;
}

export class PolicyReloadError extends Error {
  constructor(readonly path: string, what: string, options: { cause: unknown }) {
    super(`${what}; the previous authorization policy stays in force: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'PolicyReloadError';
  }
}

const DEFAULT_DEBOUNCE_MS = 100;

export class PolicyFile implements Authorizer {
  private readonly watcher: FSWatcher;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private readAgain = false;
  private closed = false;

  private constructor(
    private readonly options: PolicyFileOptions,
    private engine: AuthzEngine,
    private lastText: string,
  ) {
    this.watcher = watch(dirname(options.path), { persistent: false }, () => this.schedule());
    this.watcher.on('error', (error) => {
      options.onError(new PolicyReloadError(options.path, `stopped watching ${dirname(options.path)} for changes to ${options.path}`, { cause: error }));
    });
    // The file may have changed between the first read and the start of watching.
    this.schedule();
  }

  /** Loads and validates the file, throwing if it is unusable (the server must not start), then watches it. */
  static async open(options: PolicyFileOptions): Promise<PolicyFile> {
    const parse = parserFor(options.path);
    const text = await readFile(options.path, 'utf8');
    return new PolicyFile(options, compile(options, parse, text), text);
  }

  get policy(): Policy {
    return this.engine.policy;
  }

  decide(caller: SpiffeId | undefined, fullMethod: string): Decision {
    return this.engine.decide(caller, fullMethod);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher.close();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  /** Reads until no event arrived during the last read, one read at a time. */
  private async reload(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        await this.readOnce();
      } while (this.readAgain && !this.closed);
    } finally {
      this.reading = false;
    }
  }

  private async readOnce(): Promise<void> {
    const { path } = this.options;
    let engine: AuthzEngine;
    try {
      const text = await readFile(path, 'utf8');
      if (this.closed || text === this.lastText) return;
      this.lastText = text;
      engine = compile(this.options, parserFor(path), text);
    } catch (error) {
      if (!this.closed) this.options.onError(new PolicyReloadError(path, `could not reload ${path}`, { cause: error }));
      return;
    }
    this.engine = engine;
    this.options.onReload?.(engine.policy);
  }
}

type Parser = (text: string, source: string) => Policy;

function parserFor(path: string): Parser {
  switch (extname(path).toLowerCase()) {
    case '.csv':
      return parseCsvPolicy;
    case '.yaml':
    case '.yml':
      return parseYamlPolicy;
    default:
      throw new PolicyError(path, [`unsupported file extension ${JSON.stringify(extname(path))}; name the policy file *.csv (rows "p,<trust domain>,<full method>") or *.yaml / *.yml (rules list)`]);
  }
}

function compile(options: PolicyFileOptions, parse: Parser, text: string): AuthzEngine {
  const policy = parse(text, options.path);
  validatePolicy(policy, options.knownMethods);
  return new AuthzEngine(policy, options.ownTrustDomain);
}
