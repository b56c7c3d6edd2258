/**
 * X.509 GeneralName (RFC 5280 §4.2.1.6), decoded from DER for the SAN and NameConstraints extensions.
 *
 * Only the forms that identity checks and name constraints need are decoded; the rest keep their
 * context tag so that callers can name them and fail closed.
 */
import { DerError, type DerElement } from './der';

export type GeneralName =
  | { readonly type: 'email' | 'dns' | 'uri'; readonly value: string }
  | { readonly type: 'ip'; readonly value: Buffer }
  | { readonly type: 'other'; readonly form: string };

const FORMS = [
  'otherName',
  'rfc822Name',
  'dNSName',
  'x400Address',
  'directoryName',
  'ediPartyName',
  'uniformResourceIdentifier',
  'iPAddress',
  'registeredID',
];

export function readGeneralName(element: DerElement, what: string): GeneralName {
  const tagClass = element.tag & 0xc0;
  const number = element.tag & 0x1f;
  const form = FORMS[number];
  if (tagClass !== 0x80 || form === undefined) {
    throw new DerError(`${what}: tag 0x${element.tag.toString(16)} is not a GeneralName`);
  }
  const primitive = (element.tag & 0x20) === 0;
  switch (number) {
    case 1:
    case 2:
    case 6:
      if (!primitive) throw new DerError(`${what}: ${form} must be primitive`);
      return { type: number === 1 ? 'email' : number === 2 ? 'dns' : 'uri', value: ia5String(element.contents, `${what} ${form}`) };
    case 7:
      if (!primitive) throw new DerError(`${what}: iPAddress must be primitive`);
      return { type: 'ip', value: element.contents };
    default:
      return { type: 'other', form };
  }
}

/** A readable form for error messages. */
export function describeGeneralName(name: GeneralName): string {
  switch (name.type) {
    case 'email':
    case 'dns':
    case 'uri':
      return `${name.type.toUpperCase()} ${JSON.stringify(name.value)}`;
    case 'ip':
      return `IP ${formatIp(name.value)}`;
    case 'other':
      return name.form;
  }
}

/** Formats a 4- or 16-byte address, or an 8- or 32-byte address-and-mask pair as `address/mask`. */
export function formatIp(bytes: Buffer): string {
  const part = (b: Buffer): string =>
    b.length === 4 ? [...b].join('.') : b.length === 16 ? (b.toString('hex').match(/.{4}/g) ?? []).join(':') : `0x${b.toString('hex')}`;
  if (bytes.length === 8 || bytes.length === 32) {
    const half = bytes.length / 2;
    return `${part(bytes.subarray(0, half))}/${part(bytes.subarray(half))}`;
  }
  return part(bytes);
}

function ia5String(bytes: Buffer, what: string): string {
  for (const byte of bytes) {
    if (byte > 0x7f) throw new DerError(`${what}: IA5String has a non-ASCII byte`);
  }
  return bytes.toString('latin1');
}
