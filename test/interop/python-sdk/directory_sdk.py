"""The AGNTCY Directory's published Python SDK (agntcy-dir on PyPI) as an independent peer of dirtk.

Its generated *_pb2 modules were compiled by the Directory project from its own protos, so bytes they
write and descriptors they hold are the real wire format, not dirtk's reading of it.

    python directory_sdk.py fixtures            golden encodings and field numbers, as JSON on stdout
    python directory_sdk.py exercise HOST:PORT  calls a Directory apiserver with the SDK's gRPC stubs
    python directory_sdk.py calls-over-tls SPEC calls it over gRPC TLS with a client certificate; SPEC is JSON:
        {"target": "localhost:PORT", "root_certificates": FILE, "certificate_chain": FILE, "private_key": FILE,
         "target_name_override": NAME (optional), "calls": [{"call": "push", "record": {...}}, ...]}
    python directory_sdk.py read-referrer JSON  parses a stored referrer as the Directory's OCI store does

Run by test/interop/python-sdk.ts inside the virtualenv it makes.
"""
import json
import sys
import types
from importlib.metadata import version

from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2, json_format


def register_buf_validate_shim():
    """The pb2 modules import buf.validate.validate_pb2 (their fields carry protovalidate options),
    which is published only on buf's own package index, not on PyPI. The descriptors refer to one
    type from it, the message that agntcy.dir.core.v1's predefined rules extend, so that message (with
    its extension range) is all this file holds. Options stay unparsed bytes; no wire format depends
    on them."""
    shim = descriptor_pb2.FileDescriptorProto(name="buf/validate/validate.proto", package="buf.validate", syntax="proto2")
    shim.message_type.add(name="StringRules").extension_range.add(start=1000, end=536870912)
    descriptor_pool.Default().Add(shim)
    module = types.ModuleType("buf.validate.validate_pb2")
    sys.modules.setdefault("buf", types.ModuleType("buf"))
    sys.modules["buf.validate"] = types.ModuleType("buf.validate")
    sys.modules["buf.validate"].validate_pb2 = module
    sys.modules["buf.validate.validate_pb2"] = module


register_buf_validate_shim()

import grpc  # noqa: E402
from agntcy.dir.core.v1 import record_pb2, referrer_pb2  # noqa: E402
from agntcy.dir.store.v1 import store_service_pb2, store_service_pb2_grpc, sync_service_pb2, sync_service_pb2_grpc  # noqa: E402

SERVICES = [store_service_pb2.DESCRIPTOR.services_by_name["StoreService"], sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"]]
# Used by no StoreService or SyncService method, but part of core.v1 that dirtk must match.
EXTRA_MESSAGES = [record_pb2.NamedRecordRef.DESCRIPTOR]

RECORD_CID = "baeareihdr6krcbzdbdxjs6x5h5nfqqfd2c3fqvhmy3rfuxg5lh6qh3b6ie"
REFERRER_CID = "baeareigfu6vfhbsf4zgfp3dmu3buqbj5l7r3s3a6ufhdvitucnsznvb3ky"
RECORD_DATA = {
    "annotations": {"team": "blue"},
    "authors": ["AGNTCY"],
    "created_at": "2026-01-02T03:04:05Z",
    "deprecated": False,
    "extensions": None,
    "locators": [{"type": "docker_image", "url": "ghcr.io/agntcy/agent-a:v1"}],
    "name": "agent-a",
    "schema_version": "0.7.0",
    "score": 0.75,
    "skills": [{"id": 10201, "name": "natural_language_processing/text_completion"}],
    "version": "v1.0.0",
}
SIGNATURE_DATA = {"annotations": {"alg": "ES256"}, "certificate": None, "content_bundle": "MEUCIQ==", "signed_at": "2026-01-02T03:04:06Z", "verified": True}
REFERRER = {
    "type": "agntcy.dir.sign.v1.Signature",
    "record_ref": {"cid": RECORD_CID},
    "annotations": {"alg": "ES256", "issuer": "dirtk"},
    "created_at": "2026-01-02T03:04:06Z",
    "data": SIGNATURE_DATA,
    "referrer_ref": {"cid": REFERRER_CID},
}
STORE = "/agntcy.dir.store.v1.StoreService/"
SYNC = "/agntcy.dir.store.v1.SyncService/"

# One representative request and response per method, every field set.
CASES = [
    (STORE + "Push", record_pb2.Record, {"data": RECORD_DATA}, record_pb2.RecordRef, {"cid": RECORD_CID}),
    (STORE + "Pull", record_pb2.RecordRef, {"cid": RECORD_CID}, record_pb2.Record, {"data": RECORD_DATA}),
    (
        STORE + "Lookup",
        record_pb2.RecordRef,
        {"cid": RECORD_CID},
        record_pb2.RecordMeta,
        {"cid": RECORD_CID, "annotations": {"team": "blue", "tier": "gold"}, "schema_version": "0.7.0", "created_at": "2026-01-02T03:04:05Z"},
    ),
    (STORE + "Delete", record_pb2.RecordRef, {"cid": RECORD_CID}, empty_pb2.Empty, {}),
    (
        STORE + "PushReferrer",
        store_service_pb2.PushReferrerRequest,
        {key: REFERRER[key] for key in ("type", "record_ref", "annotations", "created_at", "data")},
        store_service_pb2.PushReferrerResponse,
        {"success": True, "error_message": "stored", "referrer_ref": {"cid": REFERRER_CID}},
    ),
    (
        STORE + "PullReferrer",
        store_service_pb2.PullReferrerRequest,
        {"record_ref": {"cid": RECORD_CID}, "referrer_type": "agntcy.dir.sign.v1.Signature", "referrer_ref": {"cid": REFERRER_CID}},
        store_service_pb2.PullReferrerResponse,
        {"referrer": REFERRER},
    ),
    (
        STORE + "DeleteReferrer",
        store_service_pb2.DeleteReferrerRequest,
        {"record": {"cid": RECORD_CID}, "referrer_ref": {"cid": REFERRER_CID}, "referrer_type": "agntcy.dir.sign.v1.Signature"},
        store_service_pb2.DeleteReferrerResponse,
        {"referrer_refs": [{"cid": REFERRER_CID}, {"cid": RECORD_CID}]},
    ),
    (
        SYNC + "CreateSync",
        sync_service_pb2.CreateSyncRequest,
        {"remote_directory_url": "https://dir.partner.example:8888", "cids": [RECORD_CID, REFERRER_CID]},
        sync_service_pb2.CreateSyncResponse,
        {"sync_id": "5f0c6f1e-8c1d-4f7e-9a53-2b1f0e6c9d41"},
    ),
    (
        SYNC + "ListSyncs",
        sync_service_pb2.ListSyncsRequest,
        {"limit": 20, "offset": 300},
        sync_service_pb2.ListSyncsItem,
        {"sync_id": "5f0c6f1e-8c1d-4f7e-9a53-2b1f0e6c9d41", "status": "SYNC_STATUS_IN_PROGRESS", "remote_directory_url": "https://dir.partner.example:8888"},
    ),
    (
        SYNC + "GetSync",
        sync_service_pb2.GetSyncRequest,
        {"sync_id": "5f0c6f1e-8c1d-4f7e-9a53-2b1f0e6c9d41"},
        sync_service_pb2.GetSyncResponse,
        {
            "sync_id": "5f0c6f1e-8c1d-4f7e-9a53-2b1f0e6c9d41",
            "status": "SYNC_STATUS_COMPLETED",
            "remote_directory_url": "https://dir.partner.example:8888",
            "created_time": "2026-01-02T03:04:05Z",
            "last_update_time": "2026-01-02T03:09:05Z",
        },
    ),
    (SYNC + "DeleteSync", sync_service_pb2.DeleteSyncRequest, {"sync_id": "5f0c6f1e-8c1d-4f7e-9a53-2b1f0e6c9d41"}, sync_service_pb2.DeleteSyncResponse, {}),
    (
        SYNC + "RequestRegistryCredentials",
        sync_service_pb2.RequestRegistryCredentialsRequest,
        {},
        sync_service_pb2.RequestRegistryCredentialsResponse,
        {
            "success": True,
            "error_message": "none",
            "registry_address": "https://dir-zot.dir.svc.cluster.local:5000",
            "basic_auth": {"username": "sync-reader", "password": "s3cr3t"},
            "repository_name": "dir",
            "insecure": True,
        },
    ),
]


def as_json(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def encoded_case(method, direction, message_class, value):
    message = json_format.ParseDict(value, message_class())
    return {
        "method": method,
        "direction": direction,
        "message": message_class.DESCRIPTOR.full_name,
        "value": as_json(message),
        "hex": message.SerializeToString(deterministic=True).hex(),
    }


def field_row(field, message_proto):
    row = {"name": field.name, "number": field.number, "type": descriptor_pb2.FieldDescriptorProto.Type.Name(field.type)[len("TYPE_"):].lower()}
    if field.type_name:
        row["type_name"] = field.type_name.lstrip(".")
    if field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED:
        row["label"] = "repeated"
    elif field.proto3_optional:
        row["label"] = "optional"
    else:
        row["label"] = "singular"
        if field.HasField("oneof_index"):
            row["oneof"] = message_proto.oneof_decl[field.oneof_index].name
    return row


def message_tables(descriptor, tables, enums):
    if descriptor.full_name in tables or descriptor.file.package == "google.protobuf":
        return
    proto = descriptor_pb2.DescriptorProto()
    descriptor.CopyToProto(proto)
    tables[descriptor.full_name] = [field_row(field, proto) for field in proto.field]
    for nested in descriptor.nested_types:
        message_tables(nested, tables, enums)
    for field in descriptor.fields:
        if field.message_type is not None:
            message_tables(field.message_type, tables, enums)
        if field.enum_type is not None:
            enums[field.enum_type.full_name] = {value.name: value.number for value in field.enum_type.values}


def fixtures():
    services, messages, enums, cases = {}, {}, {}, []
    for service in SERVICES:
        services[service.full_name] = []
        for method in service.methods:
            services[service.full_name].append(
                {
                    "name": method.name,
                    "input": method.input_type.full_name,
                    "output": method.output_type.full_name,
                    "client_streaming": method.client_streaming,
                    "server_streaming": method.server_streaming,
                }
            )
            message_tables(method.input_type, messages, enums)
            message_tables(method.output_type, messages, enums)
    for extra in EXTRA_MESSAGES:
        message_tables(extra, messages, enums)
    for method, request_class, request, response_class, response in CASES:
        cases.append(encoded_case(method, "request", request_class, request))
        cases.append(encoded_case(method, "response", response_class, response))
    return {
        "generator": "test/interop/python-sdk/directory_sdk.py fixtures",
        "sdk": {"package": "agntcy-dir", "version": version("agntcy-dir"), "protobuf": version("protobuf")},
        "services": services,
        "messages": dict(sorted(messages.items())),
        "enums": enums,
        "cases": cases,
    }


def exercise(address):
    """Each method the SDK's stubs call, one stream or call each; the outcome of every call as JSON."""
    results = {}
    with grpc.insecure_channel(address) as channel:
        store = store_service_pb2_grpc.StoreServiceStub(channel)
        sync = sync_service_pb2_grpc.SyncServiceStub(channel)

        def record(name):
            return json_format.ParseDict({"data": dict(RECORD_DATA, name=name)}, record_pb2.Record())

        def attempt(key, call):
            try:
                results[key] = {"ok": call()}
            except grpc.RpcError as error:
                results[key] = {"code": error.code().name, "details": error.details()}
            except (IndexError, KeyError) as error:
                # A call that depends on an earlier one that failed: reported, so the test shows both.
                results[key] = {"not_run": f"{type(error).__name__}: {error}"}

        attempt("push", lambda: [as_json(ref) for ref in store.Push(iter([record("sdk-agent-1"), record("sdk-agent-2")]))])
        cids = [ref["cid"] for ref in results["push"].get("ok", [])]
        refs = [record_pb2.RecordRef(cid=cid) for cid in cids]
        attempt("pull", lambda: [as_json(message) for message in store.Pull(iter(refs))])
        attempt("lookup", lambda: [as_json(meta) for meta in store.Lookup(iter(refs))])
        referrer = store_service_pb2.PushReferrerRequest(
            record_ref=refs[0] if refs else None, type=REFERRER["type"], annotations=REFERRER["annotations"], created_at=REFERRER["created_at"]
        )
        referrer.data.update(SIGNATURE_DATA)
        public_key = store_service_pb2.PushReferrerRequest(record_ref=refs[0] if refs else None, type="agntcy.dir.sign.v1.PublicKey")
        public_key.data.update({"key": "MCowBQYDK2VwAyEA"})
        attempt("push_referrer", lambda: [as_json(response) for response in store.PushReferrer(iter([referrer, public_key]))])
        pushed = [response["referrer_ref"]["cid"] for response in results["push_referrer"].get("ok", [])]
        attempt("pull_referrer", lambda: [as_json(response) for response in store.PullReferrer(iter([store_service_pb2.PullReferrerRequest(record_ref=refs[0])]))])
        attempt(
            "pull_referrer_by_ref",
            lambda: [
                as_json(response)
                for response in store.PullReferrer(
                    iter([store_service_pb2.PullReferrerRequest(record_ref=refs[0], referrer_ref=referrer_pb2.ReferrerRef(cid=pushed[1]))])
                )
            ],
        )
        attempt(
            "push_referrer_unknown_type",
            lambda: [as_json(response) for response in store.PushReferrer(iter([store_service_pb2.PushReferrerRequest(record_ref=refs[0], type="agntcy.dir.sign.v1.Certificate")]))],
        )
        attempt(
            "delete_referrer",
            lambda: [
                as_json(response)
                for response in store.DeleteReferrer(iter([store_service_pb2.DeleteReferrerRequest(record=refs[0], referrer_type="agntcy.dir.sign.v1.PublicKey")]))
            ],
        )
        attempt("delete", lambda: as_json(store.Delete(iter(refs[1:]))))
        attempt("pull_deleted", lambda: [as_json(message) for message in store.Pull(iter(refs[1:]))])
        attempt("create_sync", lambda: as_json(sync.CreateSync(sync_service_pb2.CreateSyncRequest(remote_directory_url="https://dir.partner.example:8888", cids=cids[:1]))))
        attempt("list_syncs", lambda: [as_json(item) for item in sync.ListSyncs(sync_service_pb2.ListSyncsRequest(limit=10))])
        attempt("get_sync", lambda: as_json(sync.GetSync(sync_service_pb2.GetSyncRequest(sync_id=results["create_sync"]["ok"]["sync_id"]))))
        attempt("request_registry_credentials", lambda: as_json(sync.RequestRegistryCredentials(sync_service_pb2.RequestRegistryCredentialsRequest())))
    return results


def tls_call(store, sync, spec, timeout):
    """One call of `calls-over-tls`, with the SDK's stubs; its response(s) as proto JSON."""
    name = spec["call"]
    ref = record_pb2.RecordRef(cid=spec.get("cid", ""))
    if name == "push":
        return [as_json(r) for r in store.Push(iter([json_format.ParseDict({"data": spec["record"]}, record_pb2.Record())]), timeout=timeout)]
    if name == "pull":
        return [as_json(record) for record in store.Pull(iter([ref]), timeout=timeout)]
    if name == "lookup":
        return [as_json(meta) for meta in store.Lookup(iter([ref]), timeout=timeout)]
    if name == "push_referrer":
        request = store_service_pb2.PushReferrerRequest(record_ref=ref, type=spec["type"], annotations=spec.get("annotations", {}), created_at=spec.get("created_at", ""))
        request.data.update(spec.get("data", {}))
        return [as_json(response) for response in store.PushReferrer(iter([request]), timeout=timeout)]
    if name == "pull_referrer":
        request = store_service_pb2.PullReferrerRequest(record_ref=ref, referrer_type=spec.get("type", ""))
        return [as_json(response) for response in store.PullReferrer(iter([request]), timeout=timeout)]
    if name == "create_sync":
        return as_json(sync.CreateSync(sync_service_pb2.CreateSyncRequest(remote_directory_url=spec["remote_directory_url"]), timeout=timeout))
    if name == "list_syncs":
        return [as_json(item) for item in sync.ListSyncs(sync_service_pb2.ListSyncsRequest(limit=100), timeout=timeout)]
    if name == "request_registry_credentials":
        return as_json(sync.RequestRegistryCredentials(sync_service_pb2.RequestRegistryCredentialsRequest(), timeout=timeout))
    raise ValueError(f"no call {name!r}")


def calls_over_tls(spec):
    """The calls of `spec`, in order, on one channel of ordinary gRPC TLS: the server is verified against
    `root_certificates` with gRPC's own checks, host name included (the target's host, or
    `target_name_override`), and the client presents `certificate_chain`. No SPIFFE library is involved.
    The outcome of every call: {"ok": response(s)} or {"code", "details"}."""

    def read(key):
        with open(spec[key], "rb") as file:
            return file.read()

    credentials = grpc.ssl_channel_credentials(root_certificates=read("root_certificates"), private_key=read("private_key"), certificate_chain=read("certificate_chain"))
    options = [("grpc.ssl_target_name_override", spec["target_name_override"])] if "target_name_override" in spec else []
    results = []
    with grpc.secure_channel(spec["target"], credentials, options=options) as channel:
        store = store_service_pb2_grpc.StoreServiceStub(channel)
        sync = sync_service_pb2_grpc.SyncServiceStub(channel)
        for call in spec["calls"]:
            try:
                results.append({"call": call["call"], "ok": tls_call(store, sync, call, timeout=15)})
            except grpc.RpcError as error:
                results.append({"call": call["call"], "code": error.code().name, "details": error.details()})
    return results


def read_referrer(text):
    """A referrer blob read as the Directory's OCI store reads one: proto JSON into RecordReferrer, unknown fields refused."""
    try:
        return {"referrer": as_json(json_format.Parse(text, record_pb2.RecordReferrer()))}
    except json_format.ParseError as error:
        return {"error": str(error)}


def main(argv):
    if argv[1:] == ["fixtures"]:
        output = fixtures()
    elif len(argv) == 3 and argv[1] == "exercise":
        output = exercise(argv[2])
    elif len(argv) == 3 and argv[1] == "calls-over-tls":
        output = calls_over_tls(json.loads(argv[2]))
    elif len(argv) == 3 and argv[1] == "read-referrer":
        output = read_referrer(argv[2])
    else:
        sys.exit(__doc__)
    # Sorted keys: Struct and map entries in the order the deterministic encoding writes them.
    json.dump(output, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
