import { formatIp, parseIp } from '@edgeport/schema/ip';

// The inputs of the connection log search ("who had address X at time T", docs/eduvpn.md §4).

const MINUTE = 60_000;

/**
 * The spellings of an address to look for: the canonical one (RFC 5952, as the portal writes
 * addresses) and, if different, the text as typed (as a node may have reported it).
 */
export function addressSpellings(text: string): string[] | null {
  const typed = text.trim().toLowerCase();
  const ip = parseIp(typed);
  if (!ip) return null;
  const canonical = formatIp(ip.family, ip.value);
  return canonical === typed ? [canonical] : [canonical, typed];
}

/**
 * A UTC date and time as a datetime-local field sends it (`YYYY-MM-DDTHH:MM`, optionally
 * `:SS`; a space instead of `T` and a trailing `Z` accepted). Without seconds the result spans
 * the whole minute, so "12:34" finds a connection that began at 12:34:30.
 */
export function parseUtcDateTime(text: string): { from: number; to: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?$/.exec(text.trim());
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 2025-02-30 over into March: a date that does not round-trip does not exist.
  const exists = back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d && back.getUTCHours() === h && back.getUTCMinutes() === mi && back.getUTCSeconds() === s;
  if (!exists) return null;
  return m[6] === undefined ? { from: ms, to: ms + MINUTE - 1 } : { from: ms, to: ms };
}

/** The value a datetime-local field shows for this moment (UTC, to the minute). */
export function dateTimeValue(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}
