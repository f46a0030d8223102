// Number formatting as the Java side of ZooKeeper prints it: mntr goes through String.valueOf
// (Long stays an integer, Double gets Double.toString) and the Prometheus simpleclient prints
// every sample with Double.toString, so "5.0", "0.1333" and "1.2345678E7" are what tools expect.

/** Double.toString: plain between 1e-3 and 1e7, computerized scientific notation outside. */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without digits gives the shortest digits that read back as x.
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp >= -3 && exp < 7) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${int}.${frac || '0'}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${exp}`;
}

/** Prometheus text value as the Java simpleclient writes it (Collector.doubleToGoString). */
export function promValue(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return javaDouble(x);
}
