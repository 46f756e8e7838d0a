// ns -> RFC 3339 UTC with nine fractional digits (the timeline's datetime format), for messages and JSON.
const NS = 1_000_000_000n;

export function formatNs(ns: bigint): string {
  let sec = ns / NS;
  let frac = ns % NS;
  if (frac < 0n) {
    frac += NS;
    sec -= 1n;
  }
  const d = new Date(Number(sec) * 1000);
  if (Number.isNaN(d.getTime())) return `${ns}ns`;
  return `${d.toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}
