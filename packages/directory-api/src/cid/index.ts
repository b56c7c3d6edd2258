/**
 * Content identifiers of Directory objects and the canonical JSON they are computed over: the
 * apiserver names what it stores with them, and clients check what they pull against them.
 */
export { type Cid, CidError, cidOf, JSON_CODEC, parseCid } from './cid';
export { CanonicalJsonError, canonicalJson, isJsonObject, type JsonObject, type JsonValue } from './canonical-json';
