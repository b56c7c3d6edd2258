/**
 * A strict RFC 8259 JSON parser for untrusted bundle and token text.
 *
 * Unlike JSON.parse it rejects duplicate member names (JSON.parse keeps the last one, so two parsers
 * can disagree about what a document says) and keeps integers beyond 2^53 exact as bigint, which
 * `spiffe_sequence` needs on Node 20 (no JSON.parse source access).
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [member: string]: JsonValue;
}

const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

export function parseJson(text: string): JsonValue {
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.skipWhitespace();
  if (!parser.atEnd) parser.fail('unexpected text after the JSON value');
  return value;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Parser {
  private position = 0;

  constructor(private readonly text: string) {}

  get atEnd(): boolean {
    return this.position >= this.text.length;
  }

  fail(reason: string): never {
    throw new SyntaxError(`invalid JSON at offset ${this.position}: ${reason}`);
  }

  skipWhitespace(): void {
    for (;;) {
      const char = this.text[this.position];
      if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') return;
      this.position++;
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    this.skipWhitespace();
    const char = this.text[this.position];
    if (char === '{') return this.object(depth);
    if (char === '[') return this.array(depth);
    if (char === '"') return this.string();
    for (const [literal, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(literal, this.position)) {
        this.position += literal.length;
        return value;
      }
    }
    return this.number();
  }

  private object(depth: number): JsonObject {
    const result: JsonObject = {};
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position++;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] !== '"') this.fail('expected a member name');
      const name = this.string();
      if (Object.hasOwn(result, name)) this.fail(`duplicate member ${JSON.stringify(name)}`);
      this.skipWhitespace();
      this.expect(':');
      // defineProperty, because assigning "__proto__" would replace the prototype instead.
      Object.defineProperty(result, name, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      if (this.text[this.position] === '}') {
        this.position++;
        return result;
      }
      this.expect(',');
    }
  }

  private array(depth: number): JsonValue[] {
    const result: JsonValue[] = [];
    this.position++;
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position++;
      return result;
    }
    for (;;) {
      result.push(this.value(depth + 1));
      this.skipWhitespace();
      if (this.text[this.position] === ']') {
        this.position++;
        return result;
      }
      this.expect(',');
    }
  }

  private string(): string {
    const start = this.position;
    this.position++;
    for (;;) {
      const code = this.text.charCodeAt(this.position);
      if (Number.isNaN(code)) this.fail('unterminated string');
      if (code < 0x20) this.fail('control character in a string');
      this.position += code === 0x5c ? 2 : 1;
      if (code === 0x22) break;
    }
    try {
      // The token is now a delimited string literal; JSON.parse decodes its escapes exactly.
      return JSON.parse(this.text.slice(start, this.position)) as string;
    } catch {
      this.position = start;
      return this.fail('invalid escape in a string');
    }
  }

  private number(): number | bigint {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail('expected a value');
    this.position += match[0].length;
    const value = Number(match[0]);
    if (!Number.isFinite(value)) this.fail('number out of range');
    const isInteger = match[1] === undefined && match[2] === undefined;
    return isInteger && !Number.isSafeInteger(value) ? BigInt(match[0]) : value;
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.position++;
  }
}
