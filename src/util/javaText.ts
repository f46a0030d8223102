// How Java prints values that ZooKeeper's text outputs (4lw, zkCli, metrics) contain.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** java.util.Date#toString in UTC: "Sun Nov 22 03:48:44 UTC 2026". */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Double.toString for the values we print: integers keep a ".0". */
export function javaDouble(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}
