/**
 * A string as Go's encoding/json writes it with HTML escaping on (json.Marshal's default, Go 1.22
 * and later): `"` and `\` escaped, \b \f \n \r \t by name, other control characters as \u00XX, `<`
 * `>` `&` as \u003c \u003e \u0026, U+2028 and U+2029 as \u2028 and \u2029; everything else,
 * DEL and astral characters included, is left for the UTF-8 encoding. A lone surrogate, which has
 * no UTF-8 form, becomes U+FFFD there, as it does on the wire (protobuf's UTF-8 encoder) and as
 * Go's json.Unmarshal makes of invalid UTF-8 and of unpaired \uD800-style escapes.
 */

const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function goJsonString(text: string): string {
  return `"${text.replace(NEEDS_ESCAPE, (char) => NAMED_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}
