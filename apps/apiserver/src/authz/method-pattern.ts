/**
 * gRPC method names and anchored globs over them. A full method name is `/package.Service/Method`;
 * a glob has the same shape and its `*` stands for exactly one whole name component, so it never
 * crosses a `.` or a `/`. The pattern `*` on its own stands for every method.
 */
import { PatternError } from './errors';

const WILDCARD = '*';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface MethodName {
  readonly service: readonly string[];
  readonly method: string;
}

export type MethodPatternKind = 'any' | 'exact' | 'glob';

export class MethodPattern {
  private constructor(
    readonly text: string,
    readonly kind: MethodPatternKind,
    private readonly name: MethodName | undefined,
  ) {}

  static parse(text: string): MethodPattern {
    if (text === WILDCARD) return new MethodPattern(text, 'any', undefined);
    const name = splitMethodName(text);
    if (name === undefined) {
      throw new PatternError(`method ${JSON.stringify(text)} is not a full method name "/package.Service/Method" (or "*" for every method)`);
    }
    for (const component of [...name.service, name.method]) checkComponent(text, component);
    const isGlob = name.method === WILDCARD || name.service.includes(WILDCARD);
    return new MethodPattern(text, isGlob ? 'glob' : 'exact', name);
  }

  matches(fullMethod: string): boolean {
    if (this.kind === 'any') return true;
    if (this.kind === 'exact') return fullMethod === this.text;
    const pattern = this.name as MethodName;
    const name = splitMethodName(fullMethod);
    if (name === undefined || name.service.length !== pattern.service.length) return false;
    if (!componentMatches(pattern.method, name.method)) return false;
    return pattern.service.every((component, i) => componentMatches(component, name.service[i] as string));
  }

  toString(): string {
    return this.text;
  }
}

function splitMethodName(fullMethod: string): MethodName | undefined {
  if (!fullMethod.startsWith('/')) return undefined;
  const slash = fullMethod.indexOf('/', 1);
  if (slash === -1) return undefined;
  const method = fullMethod.slice(slash + 1);
  if (method.includes('/')) return undefined;
  return { service: fullMethod.slice(1, slash).split('.'), method };
}

function checkComponent(text: string, component: string): void {
  if (component === WILDCARD || IDENTIFIER.test(component)) return;
  const problem =
    component === ''
      ? 'has an empty name component'
      : component.includes(WILDCARD)
        ? `has ${JSON.stringify(component)}: "*" must stand alone for one whole package, service or method name`
        : `has ${JSON.stringify(component)}, which is not a protobuf identifier`;
  throw new PatternError(`method ${JSON.stringify(text)} ${problem}`);
}

function componentMatches(pattern: string, component: string): boolean {
  return pattern === WILDCARD || pattern === component;
}
