import { describe, expect, it } from 'vitest';
import { DerError } from '../src/internal/der';
import type { GeneralName } from '../src/internal/generalname';
import { nameConstraintsViolation, parseNameConstraints } from '../src/internal/nameconstraints';
import { der, nameConstraintsExtension, type NameConstraint } from './support/test-ca';

const parse = (permitted: NameConstraint[], excluded: NameConstraint[] = []) =>
  parseNameConstraints(Buffer.from(nameConstraintsExtension(permitted, excluded).value));

const dns = (value: string): GeneralName => ({ type: 'dns', value });
const uri = (value: string): GeneralName => ({ type: 'uri', value });
const email = (value: string): GeneralName => ({ type: 'email', value });
const ip = (...bytes: number[]): GeneralName => ({ type: 'ip', value: Buffer.from(bytes) });

function permits(constraint: NameConstraint, name: GeneralName): boolean {
  const permitted = nameConstraintsViolation(parse([constraint]), [name]) === undefined;
  const excluded = nameConstraintsViolation(parse([], [constraint]), [name]) !== undefined;
  expect(excluded).toBe(permitted); // the same matcher decides both lists
  return permitted;
}

describe('name constraint matching', () => {
  it.each([
    [{ dns: 'example.com' }, dns('example.com'), true],
    [{ dns: 'example.com' }, dns('api.example.com'), true],
    [{ dns: 'example.com' }, dns('API.Example.COM'), true],
    [{ dns: 'example.com' }, dns('evilexample.com'), false],
    [{ dns: 'example.com' }, dns('example.com.evil'), false],
    [{ dns: '.example.com' }, dns('api.example.com'), true],
    [{ dns: '.example.com' }, dns('example.com'), false],
    [{ dns: '' }, dns('anything.example'), true],
    [{ uri: 'example.com' }, uri('spiffe://example.com/x'), true],
    [{ uri: 'example.com' }, uri('spiffe://sub.example.com/x'), false],
    [{ uri: '.example.com' }, uri('spiffe://sub.example.com/x'), true],
    [{ uri: '.example.com' }, uri('spiffe://example.com/x'), false],
    [{ uri: 'example.com' }, uri('https://user@EXAMPLE.com:8443/x?q#f'), true],
    [{ uri: 'example.com' }, uri('spiffe://example.community/x'), false],
    [{ email: 'ops@example.com' }, email('ops@example.com'), true],
    [{ email: 'ops@example.com' }, email('dev@example.com'), false],
    [{ email: 'example.com' }, email('dev@example.com'), true],
    [{ email: 'example.com' }, email('dev@mail.example.com'), false],
    [{ email: '.example.com' }, email('dev@mail.example.com'), true],
    [{ ip: '10.0.0.0/8' }, ip(10, 1, 2, 3), true],
    [{ ip: '10.0.0.0/8' }, ip(11, 1, 2, 3), false],
    [{ ip: '10.1.2.3/32' }, ip(10, 1, 2, 3), true],
    [{ ip: '0.0.0.0/0' }, ip(192, 168, 1, 1), true],
    [{ ip: '10.0.0.0/8' }, ip(...new Array(16).fill(0)), false],
  ] as const)('%j against %j → %s', (constraint, name, expected) => {
    expect(permits(constraint, name)).toBe(expected);
  });

  it('restricts a name only by constraints of its own form', () => {
    const constraints = parse([{ dns: 'example.com' }]);
    expect(nameConstraintsViolation(constraints, [uri('spiffe://other.example/x'), ip(1, 2, 3, 4)])).toBeUndefined();
    expect(nameConstraintsViolation(constraints, [uri('spiffe://other.example/x'), dns('other.example')])).toMatch(
      'DNS "other.example" is outside the permitted subtrees DNS "example.com"',
    );
  });

  it('permits a name matched by any of several permitted subtrees; exclusion wins over permission', () => {
    expect(nameConstraintsViolation(parse([{ dns: 'a.example' }, { dns: 'b.example' }]), [dns('x.b.example')])).toBeUndefined();
    expect(nameConstraintsViolation(parse([{ dns: 'example' }], [{ dns: 'bad.example' }]), [dns('x.bad.example')])).toMatch(
      'is in the excluded subtree DNS "bad.example"',
    );
  });

  it.each([
    [{ uri: 'example.com' }, uri('urn:example:x'), /has no host name/],
    [{ uri: 'example.com' }, uri('spiffe://10.0.0.1/x'), /has no host name/],
    [{ uri: 'example.com' }, uri('https://[::1]/x'), /has no host name/],
    [{ uri: 'example.com' }, uri('spiffe://a..example.com/x'), /empty DNS label/],
    [{ dns: 'example.com' }, dns('.example.com'), /empty DNS label/],
    [{ email: 'example.com' }, email('no-at-sign'), /is not a mailbox/],
  ] as const)('fails closed when %j cannot be checked against %j', (constraint, name, message) => {
    expect(nameConstraintsViolation(parse([constraint]), [name])).toMatch(message);
    expect(nameConstraintsViolation(parse([], [constraint]), [name])).toMatch(message);
  });

  it('fails closed on minimum/maximum and on name forms it does not evaluate', () => {
    const withMaximum = der(0x30, der(0xa0, der(0x30, der(0x82, Buffer.from('example.com')), der(0x81, Buffer.from([1])))));
    expect(nameConstraintsViolation(parseNameConstraints(withMaximum), [dns('example.com')])).toMatch(/minimum or maximum/);
    const directoryName = parse([{ directoryName: der(0x30) }]);
    expect(nameConstraintsViolation(directoryName, [])).toMatch(/directoryName names are not supported/);
  });

  it('rejects malformed constraints', () => {
    const ipConstraint = (bytes: number[]) => der(0x30, der(0xa0, der(0x30, der(0x87, Buffer.from(bytes)))));
    expect(() => parseNameConstraints(ipConstraint([10, 0, 0, 0, 255, 0, 255, 0]))).toThrow(/mask .* is not contiguous/);
    expect(() => parseNameConstraints(ipConstraint([10, 0, 0, 0]))).toThrow(/has 4 bytes; expected 8 or 32/);
    expect(() => parseNameConstraints(der(0x30, der(0xa0)))).toThrow(DerError);
    expect(parseNameConstraints(ipConstraint([10, 0, 0, 0, 255, 0, 0, 0])).permitted).toHaveLength(1);
  });
});
