/** Orders two key tuples element by element, by UTF-16 code units (the order ISO timestamps sort in). */
export function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i] as string, b[i] as string];
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
