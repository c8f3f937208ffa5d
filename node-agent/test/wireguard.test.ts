import { describe, expect, it } from 'vitest';
import { canonicalCidr, parseIpAddressJson } from '../src/wireguard/addresses.ts';
import { parseDump } from '../src/wireguard/dump.ts';
import { wgSetArgs } from '../src/wireguard/peers.ts';

// Keys made with `wg genkey | wg pubkey` for this test only.
const PRIV = 'eDNGMjHPI9IxE9Ubxh545x476bZ4hCBWuPN5eamEHHo=';
const PUB = 'VsfgPBJqWAvI8quzwE4cq5u5amxqjOIN52UCChl1lFw=';
const A = 'uGbcIpWJBnmZrdUrwba5w1ZBbxwpgUvqkeJP2N719FA=';
const B = '+7lMwO0J80a/q8VXyfA3vJdwlNpiKva4S0hj3tE+FQQ=';
const C = '5C8RDVqvhRCY1KLUiQF2k+vrJswGk+99m2XnN5z6Py8=';
const PSK = 'gG0GICG5/BL8UGu5NZLmjoELYfbzGqMGW0Z6vLE26GM=';

const row = (...f: string[]) => f.join('\t');

describe('parseDump', () => {
  const dump =
    [
      row(PRIV, PUB, '51820', 'off'),
      row(A, '(none)', '192.0.2.7:41235', '10.43.43.2/32,fd43::2/128', '1716800000', '9012', '14820', 'off'),
      row(B, '(none)', '(none)', '10.43.43.3/32,fd43::3/128', '0', '0', '0', 'off'),
      row(C, PSK, '[2001:db8::5]:51820', '(none)', '1716800123', '1', '2', '25'),
    ].join('\n') + '\n';

  it('reads the interface line and every peer', () => {
    const d = parseDump(dump);
    expect(d.publicKey).toBe(PUB);
    expect(d.listenPort).toBe(51820);
    expect(d.fwmark).toBeNull();
    expect([...d.peers.keys()]).toEqual([A, B, C]);
    expect(d.peers.get(A)).toEqual({
      allowedIps: ['10.43.43.2/32', 'fd43::2/128'],
      endpoint: '192.0.2.7:41235',
      lastHandshake: 1716800000,
      rx: 9012,
      tx: 14820,
    });
  });

  it('maps "(none)" and a zero handshake to null and empty', () => {
    const d = parseDump(dump);
    expect(d.peers.get(B)).toEqual({
      allowedIps: ['10.43.43.3/32', 'fd43::3/128'],
      endpoint: null,
      lastHandshake: null,
      rx: 0,
      tx: 0,
    });
    expect(d.peers.get(C)).toMatchObject({ allowedIps: [], endpoint: '[2001:db8::5]:51820', lastHandshake: 1716800123 });
  });

  it('never hands the private key (or the preshared key) back', () => {
    const d = parseDump(dump);
    const seen = JSON.stringify({ ...d, peers: [...d.peers] });
    expect(seen).not.toContain(PRIV);
    expect(seen).not.toContain(PSK);
  });

  it('reads a fresh interface with no key, no peers and a fwmark', () => {
    const d = parseDump(row('(none)', '(none)', '39151', '0x1f') + '\n');
    expect(d).toEqual({ publicKey: null, listenPort: 39151, fwmark: 31, peers: new Map() });
  });

  it('rejects output it does not understand', () => {
    expect(() => parseDump('')).toThrow(/empty/);
    expect(() => parseDump(row(PRIV, PUB, '51820'))).toThrow(/expected 4/);
    expect(() => parseDump(`${row(PRIV, PUB, '1', 'off')}\n${row(A, '(none)', '(none)')}`)).toThrow(/expected 8/);
    expect(() => parseDump(`${row(PRIV, PUB, '1', 'off')}\n${row(A, '(none)', '(none)', '(none)', 'x', '0', '0', 'off')}`)).toThrow(/latest-handshake/);
  });
});

describe('wgSetArgs', () => {
  it('builds one call: removals, then upserts with their complete allowed-ips', () => {
    const calls = wgSetArgs(
      'wg0',
      [
        { publicKey: A, allowedIps: ['10.0.0.2/32', 'fd00::2/128'] },
        { publicKey: B, allowedIps: [] },
      ],
      [C],
    );
    expect(calls).toEqual([['wg', 'set', 'wg0', 'peer', C, 'remove', 'peer', A, 'allowed-ips', '10.0.0.2/32,fd00::2/128', 'peer', B, 'allowed-ips', '']]);
  });

  it('makes no call for an empty batch', () => {
    expect(wgSetArgs('wg0', [], [])).toEqual([]);
  });

  it('splits a large batch into calls of at most perCall peers', () => {
    const calls = wgSetArgs(
      'wg0',
      [A, B].map((publicKey) => ({ publicKey, allowedIps: ['10.0.0.9/32'] })),
      [C],
      2,
    );
    expect(calls.map((c) => c.filter((x) => x === 'peer').length)).toEqual([2, 1]);
    expect(calls.every((c) => c.slice(0, 3).join(' ') === 'wg set wg0')).toBe(true);
  });

  it('rejects bad keys, bad addresses and a peer both kept and removed, before anything runs', () => {
    expect(() => wgSetArgs('wg0', [{ publicKey: '--help', allowedIps: [] }], [])).toThrow(/public key/);
    expect(() => wgSetArgs('wg0', [], ['abc='])).toThrow(/public key/);
    expect(() => wgSetArgs('wg0', [{ publicKey: A, allowedIps: ['10.0.0.2'] }], [])).toThrow(/prefix/);
    expect(() => wgSetArgs('wg0', [{ publicKey: A, allowedIps: [] }], [A])).toThrow(/both/);
  });
});

describe('addresses', () => {
  it('canonicalises IPv6 spellings and keeps IPv4 as is', () => {
    expect(canonicalCidr('FD00:0:0::0001/64')).toBe('fd00::1/64');
    expect(canonicalCidr('10.43.43.1/24')).toBe('10.43.43.1/24');
    expect(() => canonicalCidr('10.43.43.1/33')).toThrow();
    expect(() => canonicalCidr('10.43.43.1')).toThrow();
  });

  it('reads `ip -j address show`, leaving out link-local addresses', () => {
    const json = JSON.stringify([
      {
        ifname: 'wg0',
        flags: ['POINTOPOINT', 'MULTICAST', 'NOARP', 'UP', 'LOWER_UP'],
        addr_info: [
          { family: 'inet', local: '10.43.43.1', prefixlen: 24, scope: 'global' },
          { family: 'inet6', local: 'fd43::1', prefixlen: 64, scope: 'global' },
          { family: 'inet6', local: 'fe80::9836:4e9b:2cd2:cf38', prefixlen: 64, scope: 'link' },
        ],
      },
    ]);
    expect(parseIpAddressJson(json)).toEqual({ up: true, addresses: ['10.43.43.1/24', 'fd43::1/64'] });
    expect(parseIpAddressJson(JSON.stringify([{ flags: ['NOARP'], addr_info: [] }]))).toEqual({ up: false, addresses: [] });
  });
});
