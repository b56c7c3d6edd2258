/**
 * Our generated code against the real Directory's wire format. `fixtures/directory-sdk-wire.json` was
 * written by the Directory's published Python SDK (its own generated `*_pb2` modules, not our protos):
 * one request and one response per StoreService and SyncService method with every field set, encoded
 * by the SDK, and the field numbers, types and labels of each message as the SDK's descriptors hold
 * them. `npx tsx test/interop/python-sdk.ts` rewrites the file; test/interop/directory-sdk.integration.test.ts
 * checks that the SDK still writes exactly what is committed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fromBinary, isFieldSet } from '@bufbuild/protobuf';
import type { BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import { describe, expect, it } from 'vitest';
import { DESCRIPTOR_SET_BASE64 } from '../gen/descriptor-set';
import * as wire from '../src/grpc';

interface FieldRow {
  readonly name: string;
  readonly number: number;
  readonly type: string;
  readonly type_name?: string;
  readonly label: 'singular' | 'optional' | 'repeated';
  readonly oneof?: string;
}
interface MethodRow {
  readonly name: string;
  readonly input: string;
  readonly output: string;
  readonly client_streaming: boolean;
  readonly server_streaming: boolean;
}
interface WireCase {
  readonly method: string;
  readonly direction: 'request' | 'response';
  readonly message: string;
  readonly value: Record<string, unknown>;
  readonly hex: string;
}
interface WireFixtures {
  readonly sdk: { readonly package: string; readonly version: string };
  readonly services: Readonly<Record<string, readonly MethodRow[]>>;
  readonly messages: Readonly<Record<string, readonly FieldRow[]>>;
  readonly enums: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly cases: readonly WireCase[];
}

const fixtures = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'directory-sdk-wire.json'), 'utf8')) as WireFixtures;

/**
 * Fields the Directory added after the SDK release the fixtures come from (registry sync, agntcy/dir
 * v1.7+), with the values our decoder gives them when absent. Every other field must be the SDK's.
 */
const NEWER_THAN_THE_SDK: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'agntcy.dir.store.v1.CreateSyncRequest': { remote_registry_url: '', repository_name: '' },
  'agntcy.dir.store.v1.ListSyncsItem': { remote_registry_url: '', repository_name: '' },
  'agntcy.dir.store.v1.GetSyncResponse': { remote_registry_url: '', repository_name: '' },
};

interface Codec {
  encode(message: never): BinaryWriter;
  decode(input: Uint8Array): unknown;
}
/** Our generated codec of each message the fixtures encode, by full name. */
const CODECS: Readonly<Record<string, Codec>> = {
  'agntcy.dir.core.v1.Record': wire.Record,
  'agntcy.dir.core.v1.RecordRef': wire.RecordRef,
  'agntcy.dir.core.v1.RecordMeta': wire.RecordMeta,
  'google.protobuf.Empty': wire.Empty,
  'agntcy.dir.store.v1.PushReferrerRequest': wire.PushReferrerRequest,
  'agntcy.dir.store.v1.PushReferrerResponse': wire.PushReferrerResponse,
  'agntcy.dir.store.v1.PullReferrerRequest': wire.PullReferrerRequest,
  'agntcy.dir.store.v1.PullReferrerResponse': wire.PullReferrerResponse,
  'agntcy.dir.store.v1.DeleteReferrerRequest': wire.DeleteReferrerRequest,
  'agntcy.dir.store.v1.DeleteReferrerResponse': wire.DeleteReferrerResponse,
  'agntcy.dir.store.v1.CreateSyncRequest': wire.CreateSyncRequest,
  'agntcy.dir.store.v1.CreateSyncResponse': wire.CreateSyncResponse,
  'agntcy.dir.store.v1.ListSyncsRequest': wire.ListSyncsRequest,
  'agntcy.dir.store.v1.ListSyncsItem': wire.ListSyncsItem,
  'agntcy.dir.store.v1.GetSyncRequest': wire.GetSyncRequest,
  'agntcy.dir.store.v1.GetSyncResponse': wire.GetSyncResponse,
  'agntcy.dir.store.v1.DeleteSyncRequest': wire.DeleteSyncRequest,
  'agntcy.dir.store.v1.DeleteSyncResponse': wire.DeleteSyncResponse,
  'agntcy.dir.store.v1.RequestRegistryCredentialsRequest': wire.RequestRegistryCredentialsRequest,
  'agntcy.dir.store.v1.RequestRegistryCredentialsResponse': wire.RequestRegistryCredentialsResponse,
};

/** Our descriptor set, as messages and enums by full name. */
function ourDescriptors(): { messages: Map<string, DescriptorProto>; enums: Map<string, EnumDescriptorProto>; services: Map<string, MethodRow[]> } {
  const set = fromBinary(FileDescriptorSetSchema, Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'));
  const messages = new Map<string, DescriptorProto>();
  const enums = new Map<string, EnumDescriptorProto>();
  const services = new Map<string, MethodRow[]>();
  const bare = (typeName: string): string => typeName.replace(/^\./, '');
  const addMessage = (scope: string, message: DescriptorProto): void => {
    const name = `${scope}.${message.name}`;
    messages.set(name, message);
    for (const nested of message.nestedType) addMessage(name, nested);
    for (const nested of message.enumType) enums.set(`${name}.${nested.name}`, nested);
  };
  for (const file of set.file) {
    for (const message of file.messageType) addMessage(file.package, message);
    for (const topLevel of file.enumType) enums.set(`${file.package}.${topLevel.name}`, topLevel);
    for (const service of file.service) {
      services.set(
        `${file.package}.${service.name}`,
        service.method.map((method) => ({
          name: method.name,
          input: bare(method.inputType),
          output: bare(method.outputType),
          client_streaming: method.clientStreaming,
          server_streaming: method.serverStreaming,
        })),
      );
    }
  }
  return { messages, enums, services };
}

/** A message's fields in the fixtures' row format. */
function fieldRows(message: DescriptorProto): FieldRow[] {
  return message.field.map((field) => {
    const label = field.label === FieldDescriptorProto_Label.REPEATED ? 'repeated' : field.proto3Optional ? 'optional' : 'singular';
    const inOneof = label === 'singular' && isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex);
    return {
      name: field.name,
      number: field.number,
      type: FieldDescriptorProto_Type[field.type].toLowerCase(),
      ...(field.typeName !== '' && { type_name: field.typeName.replace(/^\./, '') }),
      label,
      ...(inOneof && { oneof: message.oneofDecl[field.oneofIndex]?.name }),
    };
  });
}

/** Declaration order is not wire format (see RequestRegistryCredentialsResponse in sync_service.proto). */
function byNumber(rows: readonly FieldRow[]): FieldRow[] {
  return [...rows].sort((a, b) => a.number - b.number);
}

const ours = ourDescriptors();

describe(`the wire format against the Directory's Python SDK (${fixtures.sdk.package} ${fixtures.sdk.version})`, () => {
  it('has the same StoreService and SyncService methods, message types and streaming', () => {
    expect(Object.keys(fixtures.services).sort()).toEqual([wire.STORE_SERVICE, wire.SYNC_SERVICE].sort());
    for (const [service, methods] of Object.entries(fixtures.services)) expect(ours.services.get(service), service).toEqual(methods);
  });

  it("gives every message the SDK's field numbers, names, types and labels", () => {
    expect(Object.keys(fixtures.messages)).toContain('agntcy.dir.core.v1.NamedRecordRef');
    for (const [name, sdkFields] of Object.entries(fixtures.messages)) {
      const message = ours.messages.get(name);
      expect(message, `${name} is missing from our protos`).toBeDefined();
      const newer = Object.keys(NEWER_THAN_THE_SDK[name] ?? {});
      const rows = byNumber(fieldRows(message!));
      expect(rows.filter((row) => !newer.includes(row.name)), name).toEqual(byNumber(sdkFields));
      expect(rows.filter((row) => newer.includes(row.name)).map((row) => row.name), `${name}: fields newer than the SDK`).toEqual(newer);
    }
  });

  it("gives every enum the SDK's values", () => {
    expect(Object.keys(fixtures.enums)).not.toHaveLength(0);
    for (const [name, values] of Object.entries(fixtures.enums)) {
      const ourEnum = ours.enums.get(name);
      expect(ourEnum, name).toBeDefined();
      expect(Object.fromEntries(ourEnum!.value.map((value) => [value.name, value.number])), name).toEqual(values);
    }
  });

  it('has a golden request and response for every method', () => {
    const methods = Object.entries(fixtures.services).flatMap(([service, rows]) => rows.map((row) => `/${service}/${row.name}`));
    expect(fixtures.cases.map((c) => `${c.method} ${c.direction}`).sort()).toEqual(methods.flatMap((m) => [`${m} request`, `${m} response`]).sort());
    expect(new Set(fixtures.cases.map((c) => c.message))).toEqual(new Set(Object.keys(CODECS)));
  });

  it.each(fixtures.cases.map((c) => [`${c.method} ${c.direction} (${c.message})`, c] as const))(
    '%s: our code writes the SDK\'s bytes and reads them back',
    (_, { message, value, hex }) => {
      const codec = CODECS[message]!;
      const complete = { ...NEWER_THAN_THE_SDK[message], ...value };
      expect(Buffer.from(codec.encode(complete as never).finish()).toString('hex')).toBe(hex);
      expect(codec.decode(Buffer.from(hex, 'hex'))).toEqual(complete);
    },
  );

  it('takes the golden encodings from a referrer with data and references (so a renumbering changes them)', () => {
    const pulled = fixtures.cases.find((c) => c.message === 'agntcy.dir.store.v1.PullReferrerResponse')!;
    const referrer = wire.PullReferrerResponse.decode(Buffer.from(pulled.hex, 'hex')).referrer;
    expect(referrer).toMatchObject({ type: 'agntcy.dir.sign.v1.Signature', record_ref: { cid: expect.any(String) }, referrer_ref: { cid: expect.any(String) } });
    expect(Object.keys(referrer?.annotations ?? {})).not.toHaveLength(0);
    expect(Object.keys((referrer?.data ?? {}) as object)).not.toHaveLength(0);
  });
});
