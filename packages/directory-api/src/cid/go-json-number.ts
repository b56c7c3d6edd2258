/**
 * A float64 as Go's encoding/json writes it (floatEncoder): the shortest digits that read back as
 * the same number, in strconv's 'f' form unless the magnitude is below 1e-6 or at least 1e21, where
 * it uses the 'e' form and trims the exponent's leading zero ("1e-07" becomes "1e-7"). Integral
 * numbers therefore have no fraction, and negative zero keeps its sign ("-0").
 */

export function goJsonNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} is not a JSON number`);
  const negative = value < 0 || Object.is(value, -0);
  const magnitude = Math.abs(value);
  // toExponential() with no argument gives the shortest round-tripping digits, as strconv's precision -1 does.
  const [mantissa = '', exponentText = ''] = magnitude.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const useExponent = magnitude !== 0 && (magnitude < 1e-6 || magnitude >= 1e21);
  return (negative ? '-' : '') + (useExponent ? exponentForm(digits, exponent) : fixedForm(digits, exponent));
}

/** strconv 'e': d[.ddd]e±XX with at least two exponent digits; encoding/json then turns e-0X into e-X. */
function exponentForm(digits: string, exponent: number): string {
  const mantissa = digits.length > 1 ? `${digits.charAt(0)}.${digits.slice(1)}` : digits;
  const exponentDigits = exponent < 0 ? String(-exponent) : String(exponent).padStart(2, '0');
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${exponentDigits}`;
}

/** strconv 'f' with the digits d1d2… of d1.d2… × 10^exponent. */
function fixedForm(digits: string, exponent: number): string {
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerDigits = exponent + 1;
  if (digits.length <= integerDigits) return digits.padEnd(integerDigits, '0');
  return `${digits.slice(0, integerDigits)}.${digits.slice(integerDigits)}`;
}
