/**
 * Records and their referrers in an OCI registry, laid out as the AGNTCY Directory's OCI store lays
 * them out (agntcy/dir server/store/oci: oci.go, referrers.go, types.go; api/core/v1 referrer
 * annotation keys), so a Directory, or any OCI client, reads what is stored here:
 *
 *   record
 *     blob      the record's canonical JSON, media type `application/json`; its sha256 is the CID's digest
 *     manifest  an OCI image manifest (v1.1 artifact: empty config, artifactType
 *               `application/vnd.unknown.artifact.v1`) with the record blob as its one layer and
 *               `org.agntcy.dir/*` annotations: `type` = `record`, `cid`, and the record's metadata
 *     tag       the record's CID, naming the manifest
 *   referrer
 *     blob      the referrer envelope's canonical JSON (stored-objects.ts); its sha256 is the referrer
 *               CID's digest. Media type by referrer type, as the Directory maps them: signatures
 *               `application/vnd.dev.cosign.simplesigning.v1+json`, public keys
 *               `application/vnd.agntcy.dir.publickey.v1+pem`, anything else
 *               `application/vnd.agntcy.dir.referrer.v1+json`
 *     manifest  an OCI image manifest (empty config; artifactType the image manifest media type, as
 *               the Directory packs it) with the envelope blob as its one layer, `subject` = the record
 *               manifest, and annotations `agntcy.dir.referrer.type`, `agntcy.dir.referrer.created_at`,
 *               `agntcy.dir.referrer.annotation.<key>` per annotation, `org.agntcy.dir/cid` = the
 *               referrer's CID; `org.opencontainers.image.created` is its created_at, so pushing the
 *               same referrer again writes the same manifest
 *     tag       the referrer's CID, naming the manifest
 *   the record's referrers
 *     the OCI 1.1 referrers tag schema: tag `sha256-<hex of the record manifest digest>` names an
 *     image index listing each referrer manifest's descriptor (with its artifactType and
 *     annotations), maintained as oras maintains it (Distribution 3.0.0 has no referrers API:
 *     `GET /v2/<name>/referrers/<digest>` is 404 and manifest PUTs answer no `OCI-Subject`).
 *     oras, and the Directory's oras-go client, fall back to this index on such a registry.
 *
 * Spoken over the OCI distribution HTTP API with fetch, authenticated with bearer tokens from a
 * pluggable source, asking each request only for the actions it needs. Everything read back is
 * verified: record and referrer blobs against their CIDs, referrer manifests against the digests the
 * index lists and against their record's manifest.
 *
 * Changes to one record's referrers run one at a time in this process (the index is read, changed and
 * written back); two processes changing one record's referrers at once can lose an index update, as
 * two oras clients can. The record manifest is the commit point of a delete; referrers are unlisted before
 * their manifests go, so a crash leaves at worst unlisted manifests behind, never a listed one missing.
 */
import { createHash } from 'node:crypto';
import { cidOf, isJsonObject, type JsonObject, parseCid, RAW_CODEC } from '@dirtk/directory-api/cid';
import { StoreError } from '../errors';
import { KeyedLock } from '../keyed-lock';
import type { RecordMeta, Records, Referrer, ReferrerFilter, ReferrerInput } from '../records-api';
import {
  checkReferrerCid,
  codecMismatch,
  encodeReferrer,
  encodeStoredObject,
  notFound,
  oldestFirst,
  type ReferrerEnvelope,
  referrerFromEnvelope,
  referrerNotFound,
  toReferrer,
} from '../stored-objects';

export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
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
/** The Directory's referrer manifest annotations (agntcy/dir api/core/v1: ReferrerTypeAnnotationKey and the rest). */
export const REFERRER_ANNOTATIONS = {
  type: 'agntcy.dir.referrer.type',
  createdAt: 'agntcy.dir.referrer.created_at',
  customPrefix: 'agntcy.dir.referrer.annotation.',
} as const;
/** Referrer layer media types by referrer type, as the Directory's `apiToOCIType` maps them. */
export const REFERRER_LAYER_MEDIA_TYPES: Readonly<Record<string, string>> = {
  'agntcy.dir.sign.v1.Signature': 'application/vnd.dev.cosign.simplesigning.v1+json',
  'agntcy.dir.sign.v1.PublicKey': 'application/vnd.agntcy.dir.publickey.v1+pem',
};
export const DEFAULT_REFERRER_LAYER_MEDIA_TYPE = 'application/vnd.agntcy.dir.referrer.v1+json';
/** Manifests fetched at once while listing records. */
const MANIFESTS_AT_ONCE = 16;
const OCI_CREATED_ANNOTATION = 'org.opencontainers.image.created';
const EMPTY_CONFIG = Buffer.from('{}');

/** The registry or its token service refused the credentials behind a request (expired, foreign, never valid): new ones may do. */
export class RegistryCredentialsRefusedError extends Error {
  override name = 'RegistryCredentialsRefusedError';
}

/** A bearer token for `scope` (e.g. `repository:dir:pull`), as the registry's token service would issue it. */
export type RegistryTokenSource = (scope: string) => Promise<string>;

export interface OciRecordStoreOptions {
  /** `http://127.0.0.1:port` */
  readonly registryUrl: string;
  readonly repository: string;
  readonly tokens: RegistryTokenSource;
  /** Clock for a record manifest's `org.opencontainers.image.created` and for referrers stored without created_at. */
  readonly now?: () => Date;
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly data?: string;
  readonly annotations?: Record<string, string>;
}

interface Manifest {
  readonly schemaVersion: number;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Record<string, string>;
}

/** A record's referrers index (the referrers tag schema); `digest` is undefined when the record has none. */
interface ReferrersIndex {
  readonly digest: string | undefined;
  readonly manifests: readonly Descriptor[];
}

/** A referrer read back and verified, with the manifest that holds it. */
interface StoredReferrer {
  readonly referrer: Referrer;
  readonly manifest: Descriptor;
}

/** The HTTP methods the store speaks, each with the token actions Distribution requires for it. */
const ACTIONS_BY_METHOD = { GET: 'pull', HEAD: 'pull', POST: 'pull,push', PUT: 'pull,push', DELETE: 'delete' } as const;
type Method = keyof typeof ACTIONS_BY_METHOD;

export class OciRecordStore implements Records {
  private readonly base: string;
  private readonly now: () => Date;
  private readonly lock = new KeyedLock();
  private emptyConfigPushed: Promise<void> | undefined;

  constructor(private readonly options: OciRecordStoreOptions) {
    this.base = `${options.registryUrl.replace(/\/$/, '')}/v2/${options.repository}`;
    this.now = options.now ?? (() => new Date());
  }

  async put(data: JsonObject): Promise<string> {
    if (Object.keys(data).length === 0) throw new StoreError('invalid-argument', 'record data is empty: a record needs at least one field');
    const bytes = encodeStoredObject(data, 'record');
    const cid = cidOf(bytes);
    // One write per record at a time: concurrent puts of one record would race to tag different manifests.
    await this.lock.run(cid, async () => {
      if ((await this.manifestDigest(cid)) !== undefined) return;
      const layer: Descriptor = { mediaType: RECORD_LAYER_MEDIA_TYPE, digest: sha256Digest(bytes), size: bytes.length };
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST_MEDIA_TYPE,
        artifactType: OCI_UNKNOWN_ARTIFACT_TYPE,
        config: await this.pushEmptyConfig(),
        layers: [layer],
        annotations: { ...manifestAnnotations(data, cid), [OCI_CREATED_ANNOTATION]: this.now().toISOString().replace(/\.\d+Z$/, 'Z') },
      };
      await this.pushBlob(bytes, layer.digest);
      await this.pushManifest(cid, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST_MEDIA_TYPE, `the manifest of record ${cid}`);
    });
    return cid;
  }

  async get(cid: string): Promise<JsonObject> {
    const { manifest } = await this.recordManifest(cid);
    return this.fetchVerifiedBlob(manifest.layers[0]!.digest, cid, `record ${cid}`);
  }

  /** The record and its referrers, reading its manifest once (what a sync pulls of a record it lacks). */
  async getWithReferrers(cid: string): Promise<{ record: JsonObject; referrers: Referrer[] }> {
    const { manifest, descriptor } = await this.recordManifest(cid);
    const [record, referrers] = await Promise.all([
      this.fetchVerifiedBlob(manifest.layers[0]!.digest, cid, `record ${cid}`),
      this.storedReferrers(cid, descriptor.digest, {}),
    ]);
    return { record, referrers: referrers.map((stored) => stored.referrer) };
  }

  /** From the manifest's annotations alone, as the Directory's Lookup does; the manifest must name the CID's blob. */
  async meta(cid: string): Promise<RecordMeta> {
    const { manifest } = await this.recordManifest(cid);
    const annotations = manifest.annotations ?? {};
    return {
      cid,
      annotations: withoutPrefix(annotations, DIR_ANNOTATIONS.customPrefix),
      schemaVersion: annotations[DIR_ANNOTATIONS.schemaVersion] ?? '',
      createdAt: annotations[DIR_ANNOTATIONS.createdAt] ?? '',
    };
  }

  /**
   * Deletes the record's manifest by digest (which removes its CID tag), then its referrers index and
   * every manifest the index lists (other tools' referrers too); the registry's garbage collection
   * reclaims the blobs.
   */
  async delete(cid: string): Promise<void> {
    checkRecordCid(cid);
    await this.lock.run(cid, async () => {
      const digest = await this.manifestDigest(cid);
      if (digest === undefined) throw notFound(`record ${cid}`);
      const index = await this.referrersIndex(digest);
      const response = await this.request('DELETE', `/manifests/${digest}`);
      if (response.status === 404) throw notFound(`record ${cid}`);
      await expectStatus(response, [202], `deleting the manifest of record ${cid}`);
      if (index.digest !== undefined) await this.deleteManifest(index.digest, `the referrers index of record ${cid}`);
      for (const manifest of index.manifests) await this.deleteManifest(manifest.digest, `referrer manifest ${manifest.digest} of record ${cid}`);
    });
  }

  /**
   * The CIDs of every record in the repository: the tags that are Directory CIDs (following the
   * registry's pages) whose manifests are annotated as records; referrers are tagged by CID too.
   */
  async cids(): Promise<string[]> {
    const tagged: string[] = [];
    let next: string | URL | undefined = '/tags/list?n=1000';
    while (next !== undefined) {
      const response: Response = await this.request('GET', next);
      if (response.status === 404) return [];
      await expectStatus(response, [200], 'listing the repository\'s tags');
      const { tags } = (await response.json()) as { tags?: string[] | null };
      tagged.push(...(tags ?? []).filter(isDirectoryCid));
      const link = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
      next = link === undefined ? undefined : new URL(link, this.options.registryUrl);
    }
    const records: string[] = [];
    for (let start = 0; start < tagged.length; start += MANIFESTS_AT_ONCE) {
      const batch = tagged.slice(start, start + MANIFESTS_AT_ONCE);
      const types = await Promise.all(batch.map((tag) => this.taggedManifestType(tag)));
      records.push(...batch.filter((_, i) => types[i] === 'record'));
    }
    return records;
  }

  /** The `org.agntcy.dir/type` of the manifest `tag` names, if any. */
  private async taggedManifestType(tag: string): Promise<string | undefined> {
    const response = await this.request('GET', `/manifests/${tag}`, { headers: { Accept: OCI_MANIFEST_MEDIA_TYPE } });
    if (response.status === 404) return undefined;
    await expectStatus(response, [200], `fetching the manifest tagged ${tag}`);
    const manifest: unknown = await response.json();
    const type = isJsonObject(manifest) && isJsonObject(manifest.annotations) ? manifest.annotations[DIR_ANNOTATIONS.type] : undefined;
    return typeof type === 'string' ? type : undefined;
  }

  async putReferrer(recordCid: string, input: ReferrerInput): Promise<Referrer> {
    checkRecordCid(recordCid);
    const { cid, bytes, envelope } = encodeReferrer(recordCid, input, this.now);
    await this.lock.run(recordCid, async () => {
      const { descriptor: subject } = await this.recordManifest(recordCid);
      const layer: Descriptor = { mediaType: REFERRER_LAYER_MEDIA_TYPES[envelope.type] ?? DEFAULT_REFERRER_LAYER_MEDIA_TYPE, digest: sha256Digest(bytes), size: bytes.length };
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST_MEDIA_TYPE,
        artifactType: OCI_MANIFEST_MEDIA_TYPE,
        config: await this.pushEmptyConfig(),
        layers: [layer],
        subject,
        annotations: referrerManifestAnnotations(cid, envelope),
      };
      await this.pushBlob(bytes, layer.digest);
      const manifestBytes = Buffer.from(JSON.stringify(manifest));
      await this.pushManifest(cid, manifestBytes, OCI_MANIFEST_MEDIA_TYPE, `the manifest of referrer ${cid}`);
      const listed: Descriptor = { mediaType: OCI_MANIFEST_MEDIA_TYPE, digest: sha256Digest(manifestBytes), size: manifestBytes.length, artifactType: manifest.artifactType, annotations: manifest.annotations };
      await this.updateReferrersIndex(recordCid, subject.digest, (manifests) => [...manifests.filter((entry) => entry.digest !== listed.digest), listed]);
    });
    return toReferrer(cid, envelope);
  }

  async referrers(recordCid: string, filter: ReferrerFilter = {}): Promise<Referrer[]> {
    const { descriptor: subject } = await this.recordManifest(recordCid);
    return (await this.storedReferrers(recordCid, subject.digest, filter)).map((stored) => stored.referrer);
  }

  /** Unlists the matching referrers from the record's index, then deletes their manifests (removing their CID tags). */
  async deleteReferrers(recordCid: string, filter: ReferrerFilter = {}): Promise<string[]> {
    checkRecordCid(recordCid);
    return this.lock.run(recordCid, async () => {
      const { descriptor: subject } = await this.recordManifest(recordCid);
      const doomed = await this.storedReferrers(recordCid, subject.digest, filter);
      if (doomed.length === 0) return [];
      const digests = new Set(doomed.map((stored) => stored.manifest.digest));
      await this.updateReferrersIndex(recordCid, subject.digest, (manifests) => manifests.filter((entry) => !digests.has(entry.digest)));
      for (const { referrer, manifest } of doomed) await this.deleteManifest(manifest.digest, `the manifest of referrer ${referrer.cid}`);
      return doomed.map((stored) => stored.referrer.cid);
    });
  }

  /** The record's Directory referrers matching `filter`, oldest first, each verified. A filter naming one CID that does not match is NOT_FOUND. */
  private async storedReferrers(recordCid: string, subjectDigest: string, filter: ReferrerFilter): Promise<StoredReferrer[]> {
    // Other tools' referrers of the record (e.g. `oras attach`) share the index; the Directory's carry its type annotation.
    const listed = (await this.referrersIndex(subjectDigest)).manifests.filter((entry) => entry.annotations?.[REFERRER_ANNOTATIONS.type] !== undefined);
    if (filter.cid !== undefined) {
      checkReferrerCid(filter.cid);
      const entry = listed.find((candidate) => candidate.annotations?.[DIR_ANNOTATIONS.cid] === filter.cid);
      if (entry === undefined) throw referrerNotFound(filter.cid, undefined, recordCid);
      const stored = await this.readReferrer(recordCid, subjectDigest, entry);
      if (filter.type !== undefined && stored.referrer.type !== filter.type) throw referrerNotFound(filter.cid, filter.type, recordCid);
      return [stored];
    }
    const candidates = listed.filter((entry) => filter.type === undefined || entry.annotations?.[REFERRER_ANNOTATIONS.type] === filter.type);
    const stored = await Promise.all(candidates.map((entry) => this.readReferrer(recordCid, subjectDigest, entry)));
    const byCid = new Map(stored.map((one) => [one.referrer.cid, one]));
    return oldestFirst(
      stored.map((one) => one.referrer),
      filter,
    ).map((referrer) => byCid.get(referrer.cid)!);
  }

  /** The referrer an index entry lists: its manifest must hash to the entry's digest and refer to the record, its blob to its CID. */
  private async readReferrer(recordCid: string, subjectDigest: string, entry: Descriptor): Promise<StoredReferrer> {
    const listedCid = entry.annotations?.[DIR_ANNOTATIONS.cid] ?? '';
    const what = `referrer ${listedCid} of record ${recordCid}`;
    const response = await this.request('GET', `/manifests/${entry.digest}`, { headers: { Accept: OCI_MANIFEST_MEDIA_TYPE } });
    if (response.status === 404) throw new StoreError('corrupt', `${what}: the record's referrers index lists manifest ${entry.digest}, which the registry does not hold`);
    await expectStatus(response, [200], `fetching the manifest of ${what}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (sha256Digest(bytes) !== entry.digest) throw new StoreError('corrupt', `${what}: manifest ${entry.digest} hashes to ${sha256Digest(bytes)}`);
    const manifest = parseManifest(bytes, what);
    const cid = manifest.annotations?.[DIR_ANNOTATIONS.cid];
    const layer = manifest.layers[0];
    if (manifest.subject?.digest !== subjectDigest) throw new StoreError('corrupt', `${what}: its manifest's subject is not the record's manifest ${subjectDigest}`);
    if (cid === undefined || cid !== listedCid || !isDirectoryCid(cid)) throw new StoreError('corrupt', `${what}: its manifest is not annotated ${DIR_ANNOTATIONS.cid}=${listedCid}`);
    if (layer?.digest !== digestOfCid(cid)) throw new StoreError('corrupt', `${what} is damaged in the registry (its manifest names blob ${layer?.digest}, not ${digestOfCid(cid)})`);
    const referrer = referrerFromEnvelope(cid, await this.fetchVerifiedBlob(layer.digest, cid, what), recordCid, what);
    if (manifest.annotations?.[REFERRER_ANNOTATIONS.type] !== referrer.type) throw new StoreError('corrupt', `${what}: its manifest's ${REFERRER_ANNOTATIONS.type} is not its type ${JSON.stringify(referrer.type)}`);
    return { referrer, manifest: entry };
  }

  /** The manifest the CID tag names, checked to be a record manifest whose layer is the CID's blob, and its descriptor (a referrer's subject). */
  private async recordManifest(cid: string): Promise<{ manifest: Manifest; descriptor: Descriptor }> {
    checkRecordCid(cid);
    const response = await this.request('GET', `/manifests/${cid}`, { headers: { Accept: OCI_MANIFEST_MEDIA_TYPE } });
    if (response.status === 404) throw notFound(`record ${cid}`);
    await expectStatus(response, [200], `fetching the manifest of record ${cid}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const manifest = parseManifest(bytes, `record ${cid}`);
    const layer = manifest.layers[0];
    if (!layer) throw new StoreError('corrupt', `record ${cid}: its manifest has no record layer`);
    if (manifest.annotations?.[DIR_ANNOTATIONS.type] !== 'record') throw new StoreError('corrupt', `record ${cid}: its manifest is not annotated ${DIR_ANNOTATIONS.type}=record`);
    const expected = digestOfCid(cid);
    if (layer.digest !== expected) throw new StoreError('corrupt', `record ${cid} is damaged in the registry (its manifest names blob ${layer.digest}, not ${expected})`);
    return { manifest, descriptor: { mediaType: OCI_MANIFEST_MEDIA_TYPE, digest: sha256Digest(bytes), size: bytes.length } };
  }

  /** The blob `digest`, verified to be the content `cid` names and a JSON object. */
  private async fetchVerifiedBlob(digest: string, cid: string, what: string): Promise<JsonObject> {
    const response = await this.request('GET', `/blobs/${digest}`);
    if (response.status === 404) throw new StoreError('corrupt', `${what}: its manifest names blob ${digest}, which the registry does not hold`);
    await expectStatus(response, [200], `fetching the blob of ${what}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const actual = cidOf(bytes);
    if (actual !== cid) throw new StoreError('corrupt', `${what} is damaged in the registry (its blob hashes to ${actual})`);
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (!isJsonObject(value)) throw new StoreError('corrupt', `${what} in the registry is not a JSON object`);
    return value;
  }

  /** The index the referrers tag of `subjectDigest` names, or an empty one. */
  private async referrersIndex(subjectDigest: string): Promise<ReferrersIndex> {
    const response = await this.request('GET', `/manifests/${referrersTag(subjectDigest)}`, { headers: { Accept: OCI_INDEX_MEDIA_TYPE } });
    if (response.status === 404) return { digest: undefined, manifests: [] };
    await expectStatus(response, [200], `fetching the referrers index of manifest ${subjectDigest}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const index: unknown = JSON.parse(bytes.toString('utf8'));
    if (!isJsonObject(index) || index.mediaType !== OCI_INDEX_MEDIA_TYPE || !Array.isArray(index.manifests)) {
      throw new StoreError('corrupt', `the referrers index of manifest ${subjectDigest} (tag ${referrersTag(subjectDigest)}) is not an OCI image index`);
    }
    const manifests: Descriptor[] = [];
    for (const entry of index.manifests) {
      if (!isDescriptor(entry)) throw new StoreError('corrupt', `the referrers index of manifest ${subjectDigest} lists ${JSON.stringify(entry)}, which is not a descriptor`);
      manifests.push(entry);
    }
    return { digest: sha256Digest(bytes), manifests };
  }

  /** Writes the changed index under the referrers tag and deletes the one it replaces, as oras does; an empty index is not written. */
  private async updateReferrersIndex(recordCid: string, subjectDigest: string, change: (manifests: readonly Descriptor[]) => Descriptor[]): Promise<void> {
    const current = await this.referrersIndex(subjectDigest);
    const manifests = change(current.manifests);
    if (JSON.stringify(manifests) === JSON.stringify(current.manifests)) return;
    if (manifests.length > 0) {
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests }));
      await this.pushManifest(referrersTag(subjectDigest), index, OCI_INDEX_MEDIA_TYPE, `the referrers index of record ${recordCid}`);
    }
    if (current.digest !== undefined) await this.deleteManifest(current.digest, `the previous referrers index of record ${recordCid}`);
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

  private async pushManifest(reference: string, bytes: Buffer, mediaType: string, what: string): Promise<void> {
    const response = await this.request('PUT', `/manifests/${reference}`, { body: bytes, headers: { 'Content-Type': mediaType } });
    await expectStatus(response, [201], `pushing ${what}`);
  }

  /** Deletes a manifest by digest; one already gone is fine. */
  private async deleteManifest(digest: string, what: string): Promise<void> {
    const response = await this.request('DELETE', `/manifests/${digest}`);
    await expectStatus(response, [202, 404], `deleting ${what}`);
  }

  /** The empty config every Directory artifact has, pushed; its descriptor. */
  /** The empty config every manifest names, pushed once per store (every manifest keeps it referenced). */
  private async pushEmptyConfig(): Promise<Descriptor> {
    const digest = sha256Digest(EMPTY_CONFIG);
    this.emptyConfigPushed ??= this.pushBlob(EMPTY_CONFIG, digest).catch((error: unknown) => {
      this.emptyConfigPushed = undefined;
      throw error;
    });
    await this.emptyConfigPushed;
    return { mediaType: OCI_EMPTY_MEDIA_TYPE, digest, size: EMPTY_CONFIG.length, data: EMPTY_CONFIG.toString('base64') };
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

  /** Asks the token source for the actions Distribution requires for `method` only: pull to read, push to write, delete to delete. */
  private async request(method: Method, target: string | URL, init: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = typeof target === 'string' ? `${this.base}${target}` : target;
    const token = await this.options.tokens(`repository:${this.options.repository}:${ACTIONS_BY_METHOD[method]}`);
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

/** The Directory's manifest annotations for a referrer, in key order (so one referrer always has one manifest). */
function referrerManifestAnnotations(cid: string, envelope: ReferrerEnvelope): Record<string, string> {
  const annotations: Record<string, string> = {
    [DIR_ANNOTATIONS.cid]: cid,
    [OCI_CREATED_ANNOTATION]: envelope.created_at,
    [REFERRER_ANNOTATIONS.type]: envelope.type,
    [REFERRER_ANNOTATIONS.createdAt]: envelope.created_at,
  };
  for (const [key, value] of Object.entries(envelope.annotations)) annotations[`${REFERRER_ANNOTATIONS.customPrefix}${key}`] = value;
  return Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The OCI 1.1 referrers tag schema: `sha256:<hex>` → `sha256-<hex>`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

function withoutPrefix(annotations: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations).flatMap(([key, value]) => (key.startsWith(prefix) ? [[key.slice(prefix.length), value]] : [])));
}

function parseManifest(bytes: Buffer, what: string): Manifest {
  const manifest: unknown = JSON.parse(bytes.toString('utf8'));
  if (!isManifest(manifest)) throw new StoreError('corrupt', `${what}: its manifest is not an OCI image manifest`);
  return manifest;
}

function isManifest(value: unknown): value is Manifest {
  return isJsonObject(value) && value.schemaVersion === 2 && isDescriptor(value.config) && Array.isArray(value.layers) && value.layers.every(isDescriptor);
}

function isDescriptor(value: unknown): value is Descriptor {
  return isJsonObject(value) && typeof value.mediaType === 'string' && typeof value.digest === 'string' && typeof value.size === 'number';
}

function isDirectoryCid(value: string): boolean {
  try {
    return parseCid(value).codec === RAW_CODEC;
  } catch {
    return false;
  }
}

function checkRecordCid(cid: string): void {
  const { codec } = parseCid(cid);
  if (codec !== RAW_CODEC) throw new StoreError('invalid-argument', codecMismatch(cid, codec));
}

async function expectStatus(response: Response, expected: readonly number[], what: string): Promise<void> {
  if (expected.includes(response.status)) return;
  const body = await response.text().catch(() => '');
  const message = `${what}: the registry answered ${response.status} ${body.slice(0, 500)}`.trim();
  throw response.status === 401 ? new RegistryCredentialsRefusedError(message) : new Error(message);
}
