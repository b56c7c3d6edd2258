/**
 * The real Distribution registry for a test, with token auth on and a test-only admin path: the
 * registry also trusts a key that exists only in the test, and a token signed with it grants the
 * test the actions it names (oras reads it as a ready-made access token from its config's
 * `registrytoken`). Production registry configs list the apiserver's keys only.
 *
 * Built once per cache (about 100 s cold); without Go or the module proxy the suite skips, saying why.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, type TestContext } from 'vitest';
import { REGISTRY_TOKEN_ISSUER, registryTokenKeyId, type RegistryTokenPublicJwk } from '@dirtk/directory-api/contract';
import { ensureRegistry, type RegistryInstall } from '../../registry/build/install';
import { RegistryProcess } from '../../registry/process';
import { freePorts } from '../../spire/process/ports';

export type RegistryAction = 'pull' | 'push' | 'delete';
export type RepositoryAccess = Readonly<Record<string, readonly RegistryAction[]>>;

export interface TestRegistryOptions {
  /** The tokens' `aud`. */
  readonly service: string;
  /** What the admin token grants, by repository. */
  readonly adminAccess: RepositoryAccess;
  /** Where clients are sent for tokens; by default a port nothing listens on, for tests whose clients bring tokens. */
  readonly tokenRealm?: string;
  /** Keys trusted besides the admin key (e.g. the apiserver's token-signing key). */
  readonly trustedKeys?: readonly RegistryTokenPublicJwk[];
  readonly deleteEnabled?: boolean;
}

export interface TestRegistrySuite {
  /** Why the registry is unavailable, or undefined. */
  skipReason(): string | undefined;
  skipIfUnavailable(context: TestContext): void;
}

/**
 * Registers the suite's hooks: before all, the registry built (or found) and `setUp` given it with a
 * fresh temporary folder, to start it and whatever else the suite needs; after all, the registry
 * stopped and the folder removed.
 */
export function useTestRegistry(tempPrefix: string, setUp: (registry: TestRegistry) => Promise<void>): TestRegistrySuite {
  let registry: TestRegistry | undefined;
  let skipReason: string | undefined;
  beforeAll(async () => {
    let install: RegistryInstall;
    try {
      install = await ensureRegistry({ log: (line) => console.log(`[registry build] ${line}`) });
    } catch (error) {
      skipReason = `the Distribution registry and oras could not be built: ${(error as Error).message.split('\n')[0]}`;
      return;
    }
    registry = new TestRegistry(install, mkdtempSync(path.join(tmpdir(), tempPrefix)));
    await setUp(registry);
  }, 300_000);
  afterAll(async () => {
    await registry?.stop();
  });
  return {
    skipReason: () => skipReason,
    skipIfUnavailable: (context) => {
      if (skipReason) context.skip(skipReason);
    },
  };
}

export class TestRegistry {
  private process: RegistryProcess | undefined;
  private readonly adminKey = newSigningKey();
  private service = '';
  /** `127.0.0.1:port`, once started. */
  host = '';
  /** A bearer token granting `adminAccess`, once started. */
  adminToken = '';
  /** An oras `--registry-config` holding the admin token, once started. */
  adminConfig = '';

  constructor(
    readonly install: RegistryInstall,
    /** A temporary folder for the test, removed by `stop`. */
    readonly dir: string,
  ) {}

  /** `http://127.0.0.1:port` */
  get url(): string {
    return `http://${this.host}`;
  }

  async start(options: TestRegistryOptions): Promise<void> {
    this.service = options.service;
    const [port] = await freePorts(1);
    this.host = `127.0.0.1:${port}`;
    this.process = await RegistryProcess.start({
      dir: path.join(this.dir, 'registry'),
      listen: this.host,
      tokenRealm: options.tokenRealm ?? 'http://127.0.0.1:9/registry/token',
      service: options.service,
      trustedKeys: [...(options.trustedKeys ?? []), publicJwk(this.adminKey)],
      deleteEnabled: options.deleteEnabled,
    });
    this.adminToken = await this.signToken(options.adminAccess);
    this.adminConfig = this.writeOrasConfig('oras-admin.json', this.adminToken);
  }

  /** A bearer token signed with the admin key, granting exactly `access`; once started. */
  signToken(access: RepositoryAccess): Promise<string> {
    return new SignJWT({ access: Object.entries(access).map(([name, actions]) => ({ type: 'repository', name, actions })) })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: registryTokenKeyId(publicJwk(this.adminKey)) })
      .setIssuer(REGISTRY_TOKEN_ISSUER)
      .setSubject('dirtk-test-admin')
      .setAudience(this.service)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('1h')
      .sign(this.adminKey);
  }

  /** An oras `--registry-config` in the test's folder, with `token` for this registry, or with no credentials at all. */
  writeOrasConfig(name: string, token?: string): string {
    const file = path.join(this.dir, name);
    writeFileSync(file, `${JSON.stringify({ auths: token === undefined ? {} : { [this.host]: { registrytoken: token } } })}\n`);
    return file;
  }

  /** Runs oras against the plain-HTTP registry, in a fresh folder holding `files`, with a home of its own. */
  async oras(args: readonly string[], { files = {} }: { files?: Record<string, string> } = {}) {
    const cwd = mkdtempSync(path.join(this.dir, 'oras-'));
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(cwd, name), content);
    const home = path.join(cwd, 'home');
    mkdirSync(home);
    return execa(this.install.orasBin, [...args, '--plain-http'], { cwd, reject: false, all: true, env: { HOME: home, DOCKER_CONFIG: home }, timeout: 60_000 });
  }

  async stop(): Promise<void> {
    await this.process?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function newSigningKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

function publicJwk(key: KeyObject): RegistryTokenPublicJwk {
  const { x, y } = key.export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x: x as string, y: y as string };
}
