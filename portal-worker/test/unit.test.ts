import { describe, expect, it } from 'vitest';
import { formatCidr, overlaps, parseCidr, parseIPv6 } from '@edgeport/schema/ip';
import { recordFailure, verdict } from '../src/throttle/window.ts';
import { safeNext } from '../src/routes/portal.tsx';

describe('CIDR parsing', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['fd00::/64', 'fd00::/64'],
    ['2001:db8:0:0:0:0:0:0/32', '2001:db8::/32'],
    ['::ffff:10.0.0.0/104', '::ffff:a00:0/104'],
    ['::/0', '::/0'],
  ])('accepts %s', (text, formatted) => {
    const r = parseCidr(text);
    expect(r.ok && formatCidr(r.cidr)).toBe(formatted);
  });

  it.each(['10.0.0.0', '10.0.0/8', '010.0.0.0/8', '10.0.0.0/33', 'fd00::/129', 'fd00:::/64', '1:2:3:4:5:6:7:8:9/64', 'x/8', '10.0.0.1/8'])('refuses %s', (text) => {
    expect(parseCidr(text).ok).toBe(false);
  });

  it('parses IPv6 with embedded IPv4 and compressed zeros', () => {
    expect(parseIPv6('::1')).toBe(1n);
    expect(parseIPv6('1::')).toBe(1n << 112n);
    expect(parseIPv6('::ffff:1.2.3.4')).toBe(0xffff01020304n);
  });

  it('finds overlaps only within a family', () => {
    const c = (t: string) => {
      const r = parseCidr(t);
      if (!r.ok) throw new Error(r.message);
      return r.cidr;
    };
    expect(overlaps(c('10.0.0.0/8'), c('10.1.0.0/16'))).toBe(true);
    expect(overlaps(c('10.0.0.0/24'), c('10.0.1.0/24'))).toBe(false);
    expect(overlaps(c('0.0.0.0/0'), c('::/0'))).toBe(false);
  });
});

describe('throttle window', () => {
  it('blocks at the limit and unblocks when the oldest failure leaves the window', () => {
    let s = { failures: [] as number[] };
    for (const t of [0, 10, 20]) s = recordFailure(s, t, 3, 100);
    expect(verdict(s, 30, 3, 100)).toEqual({ blocked: true, retryAfterMs: 70 });
    expect(verdict(s, 100, 3, 100).blocked).toBe(false);
    expect(recordFailure(s, 40, 3, 100).failures).toEqual([10, 20, 40]);
  });
});

describe('redirect after login', () => {
  it.each([
    ['/admin/users', '/admin/users'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example', '/'],
    [undefined, '/'],
  ])('%s → %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});
