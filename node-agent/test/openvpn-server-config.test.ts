import type { ProfileOnNode } from '@edgeport/schema';
import { describe, expect, it } from 'vitest';
import { serverProcesses, type ServerConfigOptions } from '../src/openvpn/server-config.ts';

const TLS_CRYPT = '-----BEGIN OpenVPN Static key V1-----\n0123abcd\n-----END OpenVPN Static key V1-----\n';

// The worked example of docs/eduvpn.md §2.3: three UDP ports and one TCP port over a /24 and a /64.
const employees: ProfileOnNode = {
  id: 'employees',
  display_name: 'Employees',
  default_gateway: true,
  dns_servers: ['@GW4@', '@GW6@', '9.9.9.9'],
  dns_search_domains: ['example.org'],
  routes: [],
  exclude_routes: ['192.168.0.0/16', '2001:db8::/32'],
  wireguard: null,
  openvpn: {
    range_four: '172.18.131.0/24',
    range_six: 'fdb4:2da1:2f15:a488::/64',
    udp_ports: [1194, 1195, 1196],
    tcp_ports: [1194],
    tls_crypt_key: TLS_CRYPT,
  },
};

const opts: ServerConfigOptions = {
  firstTun: 2,
  caCert: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
  serverCert: '-----BEGIN CERTIFICATE-----\nSERVER\n-----END CERTIFICATE-----',
  serverKeyPath: '/var/lib/edgeport/openvpn/server.key',
  runDir: '/run/edgeport/openvpn',
  preferAes: true,
  user: 'nobody',
  group: 'nogroup',
};

const lines = (config: string) => config.split('\n');
const valueIn = (config: string, key: string) =>
  lines(config)
    .find((l) => l.startsWith(`${key} `))
    ?.slice(key.length + 1);

describe('serverProcesses', () => {
  it('gives the worked example four processes, UDP first, each with a /26 and a /112', () => {
    const specs = serverProcesses(employees, opts);
    expect(specs.map((s) => [s.name, s.profileId])).toEqual([
      ['employees-0', 'employees'],
      ['employees-1', 'employees'],
      ['employees-2', 'employees'],
      ['employees-3', 'employees'],
    ]);
    expect(specs.map((s) => [valueIn(s.config, 'proto'), valueIn(s.config, 'port'), valueIn(s.config, 'dev')])).toEqual([
      ['udp6', '1194', 'tun2'],
      ['udp6', '1195', 'tun3'],
      ['udp6', '1196', 'tun4'],
      ['tcp6-server', '1194', 'tun5'],
    ]);
    expect(specs.map((s) => [valueIn(s.config, 'server'), valueIn(s.config, 'server-ipv6'), valueIn(s.config, 'max-clients')])).toEqual([
      ['172.18.131.0 255.255.255.192', 'fdb4:2da1:2f15:a488::/112', '61'],
      ['172.18.131.64 255.255.255.192', 'fdb4:2da1:2f15:a488::1:0/112', '61'],
      ['172.18.131.128 255.255.255.192', 'fdb4:2da1:2f15:a488::2:0/112', '61'],
      ['172.18.131.192 255.255.255.192', 'fdb4:2da1:2f15:a488::3:0/112', '61'],
    ]);
  });

  it('writes the whole UDP server file of §2.3, with admission on the management socket', () => {
    const [first] = serverProcesses(employees, opts);
    expect(first?.config).toBe(
      [
        '# employees-0: written by the node agent from profile "employees"; changes here are overwritten',
        'verb 3',
        'dev-type tun',
        'dev tun2',
        'user nobody',
        'group nogroup',
        'topology subnet',
        'persist-key',
        'persist-tun',
        'remote-cert-tls client',
        'dh none',
        'tls-version-min 1.3',
        'data-ciphers AES-256-GCM:CHACHA20-POLY1305',
        'keepalive 10 60',
        'reneg-sec 36000',
        'proto udp6',
        'port 1194',
        'server 172.18.131.0 255.255.255.192',
        'server-ipv6 fdb4:2da1:2f15:a488::/112',
        'max-clients 61',
        'management /run/edgeport/openvpn/employees-0.sock unix',
        'management-hold',
        'management-client-auth',
        'auth-user-pass-optional',
        'explicit-exit-notify 1',
        'push "explicit-exit-notify 1"',
        'push "redirect-gateway def1 ipv6"',
        'push "route 0.0.0.0 0.0.0.0"',
        'push "route 192.168.0.0 255.255.0.0 net_gateway"',
        'push "route-ipv6 2001:db8::/32 net_gateway_ipv6"',
        'push "dhcp-option DNS 172.18.131.1"',
        'push "dhcp-option DNS fdb4:2da1:2f15:a488::1"',
        'push "dhcp-option DNS 9.9.9.9"',
        'push "block-outside-dns"',
        'push "dhcp-option DOMAIN-SEARCH example.org"',
        'key /var/lib/edgeport/openvpn/server.key',
        '<ca>',
        '-----BEGIN CERTIFICATE-----',
        'CA',
        '-----END CERTIFICATE-----',
        '</ca>',
        '<cert>',
        '-----BEGIN CERTIFICATE-----',
        'SERVER',
        '-----END CERTIFICATE-----',
        '</cert>',
        '<tls-crypt>',
        '-----BEGIN OpenVPN Static key V1-----',
        '0123abcd',
        '-----END OpenVPN Static key V1-----',
        '</tls-crypt>',
        '',
      ].join('\n'),
    );
  });

  it('gives TCP processes tcp-nodelay instead of explicit-exit-notify, and per-process DNS placeholders', () => {
    const tcp = serverProcesses(employees, opts)[3]?.config ?? '';
    expect(lines(tcp)).toContain('tcp-nodelay');
    expect(tcp).not.toMatch(/explicit-exit-notify/);
    expect(lines(tcp)).toContain('push "dhcp-option DNS 172.18.131.193"');
    expect(lines(tcp)).toContain('push "dhcp-option DNS fdb4:2da1:2f15:a488::3:1"');
  });

  it('never puts the private key, scripts or username-as-common-name in the file', () => {
    for (const { config } of serverProcesses(employees, opts)) {
      expect(config).not.toMatch(/<key>|PRIVATE KEY|client-connect|client-disconnect|script-security|username-as-common-name/);
      expect(lines(config)).toContain('key /var/lib/edgeport/openvpn/server.key');
    }
  });

  it('binds a given IPv4 address with udp/tcp-server and an IPv6 one with udp6/tcp6-server', () => {
    const v4 = serverProcesses(employees, { ...opts, listenOn: '192.0.2.10' });
    expect(v4.map((s) => [valueIn(s.config, 'proto'), valueIn(s.config, 'local')])).toEqual([
      ['udp', '192.0.2.10'],
      ['udp', '192.0.2.10'],
      ['udp', '192.0.2.10'],
      ['tcp-server', '192.0.2.10'],
    ]);
    const v6 = serverProcesses(employees, { ...opts, listenOn: '::' });
    expect(v6.map((s) => valueIn(s.config, 'proto'))).toEqual(['udp6', 'udp6', 'udp6', 'tcp6-server']);
    expect(valueIn(v6[0]?.config ?? '', 'local')).toBe('::');
    expect(valueIn(serverProcesses(employees, opts)[0]?.config ?? '', 'local')).toBeUndefined();
  });

  it('puts ChaCha20 first on a node without AES instructions, and leaves user/group out when not given', () => {
    const config = serverProcesses(employees, { ...opts, preferAes: false, user: undefined, group: undefined })[0]?.config ?? '';
    expect(valueIn(config, 'data-ciphers')).toBe('CHACHA20-POLY1305:AES-256-GCM');
    expect(config).not.toMatch(/^(user|group) /m);
  });

  it('pushes routes of both families for a split tunnel, and no DNS without default gateway or search domains', () => {
    const split: ProfileOnNode = {
      ...employees,
      default_gateway: false,
      dns_servers: ['9.9.9.9'],
      dns_search_domains: [],
      routes: ['10.0.0.0/8', 'fd00:1234::/48'],
      exclude_routes: ['10.1.0.0/16'],
      openvpn: { ...employees.openvpn!, udp_ports: [1194], tcp_ports: [] },
    };
    const [only, ...rest] = serverProcesses(split, opts);
    expect(rest).toEqual([]);
    expect(lines(only?.config ?? '').filter((l) => l.startsWith('push '))).toEqual([
      'push "explicit-exit-notify 1"',
      'push "route 10.0.0.0 255.0.0.0"',
      'push "route-ipv6 fd00:1234::/48"',
      'push "route 10.1.0.0 255.255.0.0 net_gateway"',
    ]);
    // One process takes the whole range.
    expect(valueIn(only?.config ?? '', 'server')).toBe('172.18.131.0 255.255.255.0');
    expect(valueIn(only?.config ?? '', 'max-clients')).toBe('253');
    // Search domains alone bring the DNS servers along, but not block-outside-dns.
    const withDomain = serverProcesses({ ...split, dns_search_domains: ['corp.example'] }, opts)[0]?.config ?? '';
    expect(lines(withDomain).filter((l) => /dhcp-option|block-outside/.test(l))).toEqual(['push "dhcp-option DNS 9.9.9.9"', 'push "dhcp-option DOMAIN-SEARCH corp.example"']);
  });

  it('has no processes for a profile without OpenVPN or without ports', () => {
    expect(serverProcesses({ ...employees, openvpn: null }, opts)).toEqual([]);
    expect(serverProcesses({ ...employees, openvpn: { ...employees.openvpn!, udp_ports: [], tcp_ports: [] } }, opts)).toEqual([]);
  });

  it('refuses port counts that are not a power of two up to 64, and ranges too small to split', () => {
    const withPorts = (udp: number[], range_four = '10.0.0.0/16', range_six = 'fd00::/64'): ProfileOnNode => ({
      ...employees,
      openvpn: { ...employees.openvpn!, udp_ports: udp, tcp_ports: [], range_four, range_six },
    });
    const ports = (n: number) => Array.from({ length: n }, (_, i) => 2000 + i);
    expect(() => serverProcesses(withPorts(ports(3)), opts)).toThrow(/must be 1, 2, 4, 8, 16, 32 or 64/);
    expect(() => serverProcesses(withPorts(ports(128)), opts)).toThrow(/must be 1, 2, 4, 8, 16, 32 or 64/);
    expect(serverProcesses(withPorts(ports(64)), opts)).toHaveLength(64);
    expect(valueIn(serverProcesses(withPorts(ports(64)), opts)[63]?.config ?? '', 'server')).toBe('10.0.252.0 255.255.252.0');
    expect(valueIn(serverProcesses(withPorts(ports(64)), opts)[63]?.config ?? '', 'server-ipv6')).toBe('fd00::3f:0/112');
    // Each process needs at least a /29.
    expect(() => serverProcesses(withPorts(ports(8), '10.0.0.0/27'), opts)).toThrow(/too small for 8 processes/);
    expect(serverProcesses(withPorts(ports(4), '10.0.0.0/27'), opts)).toHaveLength(4);
    expect(() => serverProcesses(withPorts(ports(2), '10.0.0.0/24', 'fd00::/112'), opts)).toThrow(/cannot hold 2 \/112/);
    expect(() => serverProcesses(withPorts(ports(1), 'fd00::/64', 'fd00::/64'), opts)).toThrow(/not IPv4/);
  });
});
