/**
 * Records in an OCI registry, laid out as the AGNTCY Directory's OCI store lays them out:
 *
 *   blob      the record's canonical JSON, media type `application/json`; its sha256 is the CID's digest
 *   manifest  an OCI image manifest (v1.1 artifact: empty config, artifactType
 *             `application/vnd.unknown.artifact.v1`) with the record blob as its one layer and
 *             `org.agntcy.dir/*` annotations: `type` = `record`, `cid`, and the record's metadata
 *   tag       the record's CID, naming the manifest
 *
 * Spoken over the OCI distribution HTTP API with fetch, authenticated with bearer tokens from a
 * pluggable source. Records read back are re-hashed and refused when they do not match their CID.
 * Referrers are not stored here yet.
 */
import { createHash } from 'node:crypto';
import { canonicalJsonBytes, cidOf, isJsonObject, type JsonObject, parseCid, RAW_CODEC } from '@dirtk/directory-api/cid';
import { MAX_OBJECT_BYTES } from '@dirtk/directory-api/contract';
import { StoreError } from '../errors';
import type { RecordMeta, Records, Referrer, ReferrerFilter, ReferrerInput } from '../records-api';

export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
/** What oras packs as the artifact type of a v1.1 manifest that names none (as the Directory's does). */
export const OCI_UNKNOWN_ARTIFACT_TYPE = 'application/vnd.unknown.artifact.v1';
/** The media type of the record layer in the Directory's OCI store. */
export const RECORD_LAYER_MEDIA_TYPE = 'application/json';
export const DIR_ANNOTATION_PREFIX = 'org.agntcy.dir';
export const DIR_ANNOTATIONS = {
  type: `${DIR_ANNOTATION_PREFIX}/type`,
  cid: `${DIR_ANNOTATION_PREFIX}/cid`,
  name: `${DIR_ANNOTATION_PREFIX}/name`,
  version: `${DIR_ANNOTATION_PREFIX}/version`,
  description: `${DIR_ANNOTATION_PREFIX}/description`,
  schemaVersion: `${DIR_ANNOTATION_PREFIX}/schema-version`,
  createdAt: `${DIR_ANNOTATION_PREFIX}/created-at`,
  customPrefix: `${DIR_ANNOTATION_PREFIX}/custom.`,
} as const;
const OCI_CREATED_ANNOTATION = 'org.opencontainers.image.created';
const EMPTY_CONFIG = Buffer.from('{}');

/** A bearer token for `scope` (e.g. `repository:dir:pull,push,delete`), as the registry's token service would issue it. */
export type RegistryTokenSource = (scope: string) => Promise<string>;

export interface OciRecordStoreOptions {
  /** `http://127.0.0.1:port` */
  readonly registryUrl: string;
  readonly repository: string;
  readonly tokens: RegistryTokenSource;
  /** Clock for the manifest's `org.opencontainers.image.created`. */
  readonly now?: () => Date;
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly data?: string;
  readonly annotations?: Record<string, string>;
}

interface Manifest {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Record<string, string>;
}

export class OciRecordStore implements Records {
  private readonly base: string;
  private readonly now: () => Date;

  constructor(private readonly options: OciRecordStoreOptions) {
    this.base = `${options.registryUrl.replace(/\/$/, '')}/v2/${options.repository}`;
    this.now = options.now ?? (() => new Date());
  }

  async put(data: JsonObject): Promise<string> {
    if (Object.keys(data).length === 0) throw new StoreError('invalid-argument', 'record data is empty: a record needs at least one field');
    const bytes = canonicalJsonBytes(data);
    if (bytes.length > MAX_OBJECT_BYTES) {
      throw new StoreError('too-large', `record is ${bytes.length} bytes as canonical JSON; the limit is ${MAX_OBJECT_BYTES} bytes (4 MiB)`);
    }
    const cid = cidOf(bytes);
    if ((await this.manifestDigest(cid)) !== undefined) return cid;
    const layer: Descriptor = { mediaType: RECORD_LAYER_MEDIA_TYPE, digest: sha256Digest(bytes), size: bytes.length };
    const config: Descriptor = { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: sha256Digest(EMPTY_CONFIG), size: EMPTY_CONFIG.length, data: EMPTY_CONFIG.toString('base64') };
    await this.pushBlob(EMPTY_CONFIG, config.digest);
    await this.pushBlob(bytes, layer.digest);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: OCI_UNKNOWN_ARTIFACT_TYPE,
      config,
      layers: [layer],
      annotations: { ...manifestAnnotations(data, cid), [OCI_CREATED_ANNOTATION]: this.now().toISOString().replace(/\.\d+Z$/, 'Z') },
    };
    const response = await this.request('PUT', `/manifests/${cid}`, { body: JSON.stringify(manifest), headers: { 'Content-Type': OCI_MANIFEST_MEDIA_TYPE } });
    await expectStatus(response, [201], `pushing the manifest of record ${cid}`);
    return cid;
  }

  async get(cid: string): Promise<JsonObject> {
    const { manifest } = await this.recordManifest(cid);
    const layer = manifest.layers[0]!;
    const response = await this.request('GET', `/blobs/${layer.digest}`);
    if (response.status === 404) throw new StoreError('corrupt', `record ${cid}: its manifest names blob ${layer.digest}, which the registry does not hold`);
    await expectStatus(response, [200], `fetching the blob of record ${cid}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const actual = cidOf(bytes);
    if (actual !== cid) throw new StoreError('corrupt', `record ${cid} is damaged in the registry (its blob hashes to ${actual})`);
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (!isJsonObject(value)) throw new StoreError('corrupt', `record ${cid} in the registry is not a JSON object`);
    return value;
  }

  /** From the manifest's annotations alone, as the Directory's Lookup does; the manifest must name the CID's blob. */
  async meta(cid: string): Promise<RecordMeta> {
    const { manifest } = await this.recordManifest(cid);
    const annotations = manifest.annotations ?? {};
    const custom = Object.entries(annotations)
      .filter(([key]) => key.startsWith(DIR_ANNOTATIONS.customPrefix))
      .map(([key, value]) => [key.slice(DIR_ANNOTATIONS.customPrefix.length), value] as const);
    return {
      cid,
      annotations: Object.fromEntries(custom),
      schemaVersion: annotations[DIR_ANNOTATIONS.schemaVersion] ?? '',
      createdAt: annotations[DIR_ANNOTATIONS.createdAt] ?? '',
    };
  }

  /** Deletes the record's manifest by digest (which removes its CID tag); the registry's garbage collection reclaims the blob. */
  async delete(cid: string): Promise<void> {
    checkRecordCid(cid);
    const digest = await this.manifestDigest(cid);
    if (digest === undefined) throw notFound(`record ${cid}`);
    const response = await this.request('DELETE', `/manifests/${digest}`);
    if (response.status === 404) throw notFound(`record ${cid}`);
    await expectStatus(response, [202], `deleting the manifest of record ${cid}`);
  }

  /** The CIDs of every record in the repository: its tags that are record CIDs, following the registry's pages. */
  async cids(): Promise<string[]> {
    const cids: string[] = [];
    let next: string | URL | undefined = '/tags/list?n=1000';
    while (next !== undefined) {
      const response: Response = await this.request('GET', next);
      if (response.status === 404) return [];
      await expectStatus(response, [200], 'listing the repository\'s tags');
      const { tags } = (await response.json()) as { tags?: string[] | null };
      cids.push(...(tags ?? []).filter(isRecordCid));
      const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      next = link === undefined ? undefined : new URL(link, this.options.registryUrl);
    }
    return cids;
  }

  putReferrer(_recordCid: string, _input: ReferrerInput): Promise<Referrer> {
    return Promise.reject(referrersUnsupported());
  }

  referrers(_recordCid: string, _filter?: ReferrerFilter): Promise<Referrer[]> {
    return Promise.reject(referrersUnsupported());
  }

  deleteReferrers(_recordCid: string, _filter?: ReferrerFilter): Promise<string[]> {
    return Promise.reject(referrersUnsupported());
  }

  /** The manifest the CID tag names, checked to be a record manifest whose layer is the CID's blob. */
  private async recordManifest(cid: string): Promise<{ manifest: Manifest }> {
    checkRecordCid(cid);
    const response = await this.request('GET', `/manifests/${cid}`, { headers: { Accept: OCI_MANIFEST_MEDIA_TYPE } });
    if (response.status === 404) throw notFound(`record ${cid}`);
    await expectStatus(response, [200], `fetching the manifest of record ${cid}`);
    const manifest = (await response.json()) as Manifest;
    const layer = Array.isArray(manifest.layers) ? manifest.layers[0] : undefined;
    if (!layer || typeof layer.digest !== 'string') throw new StoreError('corrupt', `record ${cid}: its manifest has no record layer`);
    if (manifest.annotations?.[DIR_ANNOTATIONS.type] !== 'record') throw new StoreError('corrupt', `record ${cid}: its manifest is not annotated ${DIR_ANNOTATIONS.type}=record`);
    const expected = digestOfCid(cid);
    if (layer.digest !== expected) throw new StoreError('corrupt', `record ${cid} is damaged in the registry (its manifest names blob ${layer.digest}, not ${expected})`);
    return { manifest };
  }

  /** The digest of the manifest `reference` names, or undefined when none. */
  private async manifestDigest(reference: string): Promise<string | undefined> {
    const response = await this.request('HEAD', `/manifests/${reference}`, { headers: { Accept: OCI_MANIFEST_MEDIA_TYPE } });
    if (response.status === 404) return undefined;
    await expectStatus(response, [200], `resolving ${reference}`);
    const digest = response.headers.get('docker-content-digest');
    if (!digest) throw new Error(`the registry resolved ${reference} without a Docker-Content-Digest header`);
    return digest;
  }

  private async pushBlob(bytes: Buffer, digest: string): Promise<void> {
    const head = await this.request('HEAD', `/blobs/${digest}`);
    if (head.status === 200) return;
    const start = await this.request('POST', '/blobs/uploads/');
    await expectStatus(start, [202], `starting the upload of blob ${digest}`);
    const location = start.headers.get('location');
    if (!location) throw new Error(`the registry started the upload of blob ${digest} without a Location`);
    const url = new URL(location, this.options.registryUrl);
    url.searchParams.set('digest', digest);
    const put = await this.request('PUT', url, { body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
    await expectStatus(put, [201], `uploading blob ${digest}`);
  }

  private async request(method: string, target: string | URL, init: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = typeof target === 'string' ? `${this.base}${target}` : target;
    const token = await this.options.tokens(`repository:${this.options.repository}:pull,push,delete`);
    return fetch(url, { method, body: init.body, headers: { ...init.headers, Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  }
}

/** The Directory's manifest annotations for a record: its identity and metadata, string values only. */
export function manifestAnnotations(data: JsonObject, cid: string): Record<string, string> {
  const annotations: Record<string, string> = { [DIR_ANNOTATIONS.type]: 'record', [DIR_ANNOTATIONS.cid]: cid };
  const fields = [
    ['name', DIR_ANNOTATIONS.name],
    ['version', DIR_ANNOTATIONS.version],
    ['description', DIR_ANNOTATIONS.description],
    ['schema_version', DIR_ANNOTATIONS.schemaVersion],
    ['created_at', DIR_ANNOTATIONS.createdAt],
  ] as const;
  for (const [field, key] of fields) {
    const value = data[field];
    if (typeof value === 'string' && value !== '') annotations[key] = value;
  }
  if (isJsonObject(data.annotations)) {
    for (const [key, value] of Object.entries(data.annotations)) {
      if (typeof value === 'string') annotations[`${DIR_ANNOTATIONS.customPrefix}${key}`] = value;
    }
  }
  return annotations;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The OCI digest of the content a raw-codec CID names. */
export function digestOfCid(cid: string): string {
  return `sha256:${Buffer.from(parseCid(cid).digest).toString('hex')}`;
}

function isRecordCid(tag: string): boolean {
  try {
    return parseCid(tag).codec === RAW_CODEC;
  } catch {
    return false;
  }
}

function checkRecordCid(cid: string): void {
  const { codec } = parseCid(cid);
  if (codec !== RAW_CODEC) throw new StoreError('invalid-argument', `CID ${cid} has codec 0x${codec.toString(16)}; Directory objects use the raw codec (0x1)`);
}

async function expectStatus(response: Response, expected: readonly number[], what: string): Promise<void> {
  if (expected.includes(response.status)) return;
  const body = await response.text().catch(() => '');
  throw new Error(`${what}: the registry answered ${response.status} ${body.slice(0, 500)}`.trim());
}

function notFound(what: string): StoreError {
  return new StoreError('not-found', `${what} not found`);
}

function referrersUnsupported(): Error {
  return new Error('referrers are not stored in the OCI registry store yet');
}
