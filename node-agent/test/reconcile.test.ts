import { describe, expect, it } from 'vitest';
import { nodeWireguardPort, type DesiredConfig } from '@edgeport/schema';
import type { WireguardObserved } from '../src/backends/types.ts';
import { gatewayOf, reconcile, wireguardSpec } from '../src/reconcile.ts';

const K = (n: number) => `${String.fromCharCode(65 + n).repeat(42)}A=`;
const NOW = 1_000_000;

const profile = (id: string, wg: boolean, ovpn: boolean) => ({
  id,
  display_name: id,
  default_gateway: true,
  dns_servers: [],
  dns_search_domains: [],
  routes: [],
  exclude_routes: [],
  wireguard: wg ? { range_four: '10.43.43.0/24', range_six: 'fd43::/64', port: 51820 } : null,
  openvpn: ovpn ? { range_four: '10.42.0.0/24', range_six: 'fd42::/64', udp_ports: [1194], tcp_ports: [], tls_crypt_key: 'x' } : null,
});

function desired(over: Partial<DesiredConfig> = {}): DesiredConfig {
  return { node_id: 'n', revision: 1, ca_cert: null, profiles: [profile('p', true, true)], peers: [], certificates: [], ...over };
}

function observed(peers: [string, string[]][], over: Partial<WireguardObserved> = {}): { wireguard: WireguardObserved } {
  return {
    wireguard: {
      exists: true,
      publicKey: K(9),
      listenPort: 51820,
      addresses: ['10.43.43.1/24', 'fd43::1/64'],
      peers: new Map(peers.map(([k, ips]) => [k, { allowedIps: ips, endpoint: null, lastHandshake: null, rx: 0, tx: 0 }])),
      ...over,
    },
  };
}

const peer = (n: number, expires = NOW + 1) => ({ public_key: K(n), profile_id: 'p', ip_four: `10.43.43.${n + 2}`, ip_six: `fd43::${n + 2}`, expires_at: expires });

describe('reconcile', () => {
  it('finds the gateway address of a range', () => {
    expect(gatewayOf('10.43.43.0/24')).toBe('10.43.43.1/24');
    expect(gatewayOf('10.0.255.0/24')).toBe('10.0.255.1/24');
    expect(gatewayOf('fd43::/64')).toBe('fd43::1/64');
  });

  it.each([
    ['nothing to do', desired({ peers: [peer(0)] }), observed([[K(0), ['10.43.43.2/32', 'fd43::2/128']]]), []],
    ['adds a missing peer', desired({ peers: [peer(0)] }), observed([]), [{ kind: 'wg_peers', upsert: [{ publicKey: K(0), allowedIps: ['10.43.43.2/32', 'fd43::2/128'] }], remove: [] }]],
    ['removes a peer the portal no longer wants', desired(), observed([[K(1), ['10.43.43.3/32']]]), [{ kind: 'wg_peers', upsert: [], remove: [K(1)] }]],
    [
      'fixes changed addresses',
      desired({ peers: [peer(0)] }),
      observed([[K(0), ['10.43.43.9/32', 'fd43::9/128']]]),
      [{ kind: 'wg_peers', upsert: [{ publicKey: K(0), allowedIps: ['10.43.43.2/32', 'fd43::2/128'] }], remove: [] }],
    ],
    ['drops an expired peer without the portal', desired({ peers: [peer(0, NOW)] }), observed([[K(0), ['10.43.43.2/32', 'fd43::2/128']]]), [{ kind: 'wg_peers', upsert: [], remove: [K(0)] }]],
    ['ignores peers of profiles without WireGuard', desired({ profiles: [profile('p', true, false), profile('o', false, true)], peers: [{ ...peer(0), profile_id: 'o' }] }), observed([]), []],
  ])('%s', (_name, want, have, expected) => {
    const actions = reconcile(want, have, NOW, 'wg0').filter((a) => a.kind !== 'ovpn_allowed');
    expect(actions).toEqual(expected);
  });

  it('creates or fixes the interface when it is missing or differs', () => {
    const spec = { name: 'wg0', listenPort: 51820, addresses: ['10.43.43.1/24', 'fd43::1/64'] };
    expect(reconcile(desired(), { wireguard: null }, NOW, 'wg0')[0]).toEqual({ kind: 'wg_interface', spec });
    expect(reconcile(desired(), observed([], { listenPort: 1 }), NOW, 'wg0')[0]).toEqual({ kind: 'wg_interface', spec });
    expect(reconcile(desired(), observed([], { addresses: ['10.9.9.1/24'] }), NOW, 'wg0')[0]).toEqual({ kind: 'wg_interface', spec });
  });

  it('listens on the WireGuard port of the lowest profile id, whatever order the profiles come in', () => {
    // Two WireGuard profiles that disagree on the port: an old database, accepted before the
    // portal refused such pairs. The portal places clients by the same rule (nodeWireguardPort).
    const withPort = (id: string, port: number, third: number) => ({
      ...profile(id, true, false),
      wireguard: { range_four: `10.44.${third}.0/24`, range_six: `fd44:${third}::/64`, port },
    });
    const b = withPort('b', 51821, 2);
    const a = withPort('a', 51820, 1);
    const addresses = ['10.44.2.1/24', 'fd44:2::1/64', '10.44.1.1/24', 'fd44:1::1/64'];
    for (const profiles of [
      [b, a],
      [a, b],
    ]) {
      const spec = wireguardSpec(desired({ profiles }), 'wg0');
      expect(spec?.listenPort).toBe(51820);
      expect([...(spec?.addresses ?? [])].sort()).toEqual([...addresses].sort());
    }
    expect(
      nodeWireguardPort([
        { id: 'b', port: 51821 },
        { id: 'a.2', port: 51822 },
        { id: 'a', port: 51820 },
      ]),
    ).toEqual({ profile_id: 'a', port: 51820 });
    expect(nodeWireguardPort([])).toBeNull();
  });

  it('removes every peer when no WireGuard profile is left', () => {
    const actions = reconcile(desired({ profiles: [profile('p', false, true)] }), observed([[K(0), []]]), NOW, 'wg0');
    expect(actions[0]).toEqual({ kind: 'wg_peers', upsert: [], remove: [K(0)] });
  });

  it('admits only unexpired certificates of OpenVPN profiles', () => {
    const certs = [
      { common_name: 'a', profile_id: 'p', expires_at: NOW + 1 },
      { common_name: 'b', profile_id: 'p', expires_at: NOW },
      { common_name: 'c', profile_id: 'gone', expires_at: NOW + 1 },
    ];
    const allowed = reconcile(desired({ certificates: certs }), observed([]), NOW, 'wg0').find((a) => a.kind === 'ovpn_allowed');
    expect(allowed).toEqual({ kind: 'ovpn_allowed', allowed: new Map([['a', 'p']]) });
  });
});
