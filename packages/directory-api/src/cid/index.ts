/**
 * Content identifiers of Directory objects and the canonical JSON they are computed over: the
 * apiserver names what it stores with them, and clients check what they pull against them.
 */
export { type Cid, CidError, cidOf, codecOfCid, LEGACY_JSON_CODEC, parseCid, RAW_CODEC } from './cid';
export { CanonicalJsonError, canonicalJson, isJsonObject, type JsonObject, type JsonValue } from './canonical-json';
export { canonicalJsonBytes, objectCid } from './object-cid';
