import '@abraham/reflection';
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { formatCidr, parseIPv4, size, type Cidr } from '@edgeport/schema/ip';
import { candidateAt, candidateCount, gatewayAddresses, indexOf } from '../src/vpn/addresses.ts';
import { createCa, issueClientCertificate, issueServerCertificate, loadCa, randomCommonName } from '../src/vpn/ca.ts';
import { generateTlsCryptKey, openvpnClientConfig, selectRemotes, tlsCryptKey } from '../src/vpn/openvpn-config.ts';
import { mergePrefixes, subtractPrefixes, toCidr } from '../src/vpn/prefix.ts';
import { atomTimestamp, wireguardClientConfig, type WireguardProfile } from '../src/vpn/wireguard-config.ts';

const sub = (include: string[], exclude: string[]) => subtractPrefixes(include.map(toCidr), exclude.map(toCidr)).map(formatCidr);

describe('prefix subtraction', () => {
  it.each([
    ['everything minus 10/8', ['0.0.0.0/0'], ['10.0.0.0/8'], ['0.0.0.0/5', '8.0.0.0/7', '11.0.0.0/8', '12.0.0.0/6', '16.0.0.0/4', '32.0.0.0/3', '64.0.0.0/2', '128.0.0.0/1']],
    ['all of IPv6 minus fd00::/8', ['::/0'], ['fd00::/8'], ['::/1', '8000::/2', 'c000::/3', 'e000::/4', 'f000::/5', 'f800::/6', 'fc00::/8', 'fe00::/7']],
    ['exclude covering the include', ['10.1.0.0/16', 'fd00:1::/32'], ['10.0.0.0/8', 'fd00::/16'], []],
    ['disjoint exclude', ['10.0.0.0/8'], ['192.168.0.0/16', '::/0'], ['10.0.0.0/8']],
    [
      'one host out of a /24',
      ['10.0.0.0/24'],
      ['10.0.0.128/32'],
      ['10.0.0.0/25', '10.0.0.129/32', '10.0.0.130/31', '10.0.0.132/30', '10.0.0.136/29', '10.0.0.144/28', '10.0.0.160/27', '10.0.0.192/26'],
    ],
    [
      'families apart, v4 first',
      ['fd43::/64', '10.43.43.0/24', '0.0.0.0/0'],
      ['10.0.0.0/8'],
      ['0.0.0.0/5', '8.0.0.0/7', '11.0.0.0/8', '12.0.0.0/6', '16.0.0.0/4', '32.0.0.0/3', '64.0.0.0/2', '128.0.0.0/1', 'fd43::/64'],
    ],
    [
      'merges duplicates, nesting and adjacent halves',
      ['10.0.0.0/25', '10.0.0.128/25', '10.0.0.0/24', '10.1.0.0/16', '10.0.0.0/8', '192.168.1.0/24', '192.168.0.0/24'],
      [],
      ['10.0.0.0/8', '192.168.0.0/23'],
    ],
    ['adjacent but unaligned stays two', ['10.0.1.0/24', '10.0.2.0/24'], [], ['10.0.1.0/24', '10.0.2.0/24']],
    ['exclude of a larger neighbour only', ['10.0.0.0/24'], ['10.0.0.0/23', '9.0.0.0/8'], []],
  ])('%s', (_name, include, exclude, expected) => {
    expect(sub(include, exclude)).toEqual(expected);
  });

  it('0.0.0.0/0 minus the RFC 1918 ranges covers exactly the rest', () => {
    const out = subtractPrefixes([toCidr('0.0.0.0/0')], ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map(toCidr));
    expect(out.map(formatCidr)).toContain('172.32.0.0/11');
    expect(out.reduce((n, c) => n + size(c), 0n)).toBe((1n << 32n) - (1n << 24n) - (1n << 20n) - (1n << 16n));
  });

  it('agrees with address-by-address subtraction and is minimal (random cases in a /24)', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 1), seed % n);
    const base = parseIPv4('10.0.0.0') as bigint;
    const randomPrefix = (): Cidr => {
      const prefix = 24 + rnd(9);
      const block = 1 << (32 - prefix);
      return { family: 4, network: base + BigInt(rnd(256 / block) * block), prefix };
    };
    for (let round = 0; round < 200; round++) {
      const include = Array.from({ length: 1 + rnd(4) }, randomPrefix);
      const exclude = Array.from({ length: rnd(4) }, randomPrefix);
      const inside = (list: Cidr[], a: bigint) => list.some((c) => a >= c.network && a < c.network + size(c));
      const out = subtractPrefixes(include, exclude);
      for (let i = 0n; i < 256n; i++) {
        expect(inside(out, base + i)).toBe(inside(include, base + i) && !inside(exclude, base + i));
      }
      // Minimal: sorted, disjoint, and no two are the halves of one larger prefix.
      for (let k = 1; k < out.length; k++) {
        const [a, b] = [out[k - 1] as Cidr, out[k] as Cidr];
        expect(a.network + size(a) <= b.network).toBe(true);
        const siblings = a.prefix === b.prefix && a.network + size(a) === b.network && (a.network & size(a)) === 0n;
        expect(siblings).toBe(false);
      }
    }
  });

  it('mergePrefixes is subtraction of nothing', () => {
    expect(mergePrefixes(['fd00::/65', 'fd00::8000:0:0:0/65'].map(toCidr)).map(formatCidr)).toEqual(['fd00::/64']);
  });
});

describe('WireGuard address math', () => {
  it('hands out network+2 … broadcast−1, v6 paired by index', () => {
    expect(candidateCount('10.43.43.0/24')).toBe(253);
    expect(candidateAt('10.43.43.0/24', 'fd43::/64', 0)).toEqual({ ipFour: '10.43.43.2', ipSix: 'fd43::2' });
    expect(candidateAt('10.43.43.0/24', 'fd43::/64', 252)).toEqual({ ipFour: '10.43.43.254', ipSix: 'fd43::fe' });
    expect(() => candidateAt('10.43.43.0/24', 'fd43::/64', 253)).toThrow(RangeError);
    expect(() => candidateAt('10.43.43.0/24', 'fd43::/64', -1)).toThrow(RangeError);
    expect(gatewayAddresses('10.43.43.0/24', 'fd43::/64')).toEqual({ ipFour: '10.43.43.1', ipSix: 'fd43::1' });
  });

  it.each([
    ['10.0.0.0/30', 1],
    ['10.0.0.0/29', 5],
    ['10.0.0.0/31', 0],
    ['10.0.0.0/32', 0],
    ['10.0.0.0/8', 16_777_213],
  ])('%s holds %i clients', (range, count) => {
    expect(candidateCount(range)).toBe(count);
  });

  it('a /30 has exactly one candidate', () => {
    expect(candidateAt('10.0.0.0/30', 'fd00::/126', 0)).toEqual({ ipFour: '10.0.0.2', ipSix: 'fd00::2' });
    expect(() => candidateAt('10.0.0.0/30', 'fd00::/126', 1)).toThrow(RangeError);
  });

  it('indexOf inverts candidateAt and refuses non-candidates', () => {
    for (const i of [0, 1, 100, 252]) {
      expect(indexOf('10.43.43.0/24', candidateAt('10.43.43.0/24', 'fd43::/64', i).ipFour)).toBe(i);
    }
    for (const ip of ['10.43.43.0', '10.43.43.1', '10.43.43.255', '10.43.44.2', '10.43.42.254', 'fd43::2', 'nonsense']) {
      expect(indexOf('10.43.43.0/24', ip)).toBeNull();
    }
    expect(indexOf(toCidr('10.8.0.0/16'), '10.8.1.4')).toBe(256 + 4 - 2);
  });

  it('refuses a v6 range too small for the index, and ranges of the wrong family', () => {
    expect(() => candidateAt('10.0.0.0/16', 'fd00::/120', 300)).toThrow(RangeError);
    expect(() => candidateCount('fd00::/64')).toThrow(/IPv4/);
  });
});

const employees: WireguardProfile = {
  id: 'employees',
  display_name: 'Employees',
  default_gateway: true,
  dns_servers: ['9.9.9.9', '2620:fe::fe'],
  dns_search_domains: [],
  routes: [],
  exclude_routes: [],
};
const expiresAt = new Date('2021-08-06T03:59:59Z');

describe('WireGuard client config', () => {
  it('matches the upstream /connect example byte for byte', () => {
    const text = wireguardClientConfig({
      portalUrl: 'https://vpn.example.org/vpn-user-portal/',
      profile: employees,
      expiresAt,
      rangeFour: '10.43.43.0/24',
      rangeSix: 'fd43::/64',
      ...candidateAt('10.43.43.0/24', 'fd43::/64', 0),
      nodePublicKey: 'iWAHXts9w9fQVEbA5pVriPlAYMwwEPD5XcVCZDZn1AE=',
      host: 'vpn.example',
      port: 51820,
    });
    expect(text).toBe(
      [
        '# Portal: https://vpn.example.org/vpn-user-portal/',
        '# Profile: Employees (employees)',
        '# Expires: 2021-08-06T03:59:59+00:00',
        '',
        '[Interface]',
        'Address = 10.43.43.2/24,fd43::2/64',
        'DNS = 9.9.9.9,2620:fe::fe',
        '',
        '[Peer]',
        'PublicKey = iWAHXts9w9fQVEbA5pVriPlAYMwwEPD5XcVCZDZn1AE=',
        'AllowedIPs = 0.0.0.0/0,::/0',
        'Endpoint = vpn.example:51820',
        '',
      ].join('\n'),
    );
  });

  it('split tunnel: routes minus excludes plus own networks, gateway DNS, private key, IPv6 endpoint', () => {
    const text = wireguardClientConfig({
      portalUrl: 'https://portal.example.org/',
      profile: {
        ...employees,
        id: 'lab',
        display_name: 'Lab',
        default_gateway: false,
        dns_servers: ['@GW4@', '@GW6@'],
        dns_search_domains: ['lab.example.org'],
        routes: ['192.168.0.0/16', '2001:db8::/32'],
        exclude_routes: ['192.168.5.0/24', '2001:db8:ffff::/48'],
      },
      expiresAt: new Date('2030-01-02T03:04:05.678Z'),
      rangeFour: toCidr('10.43.43.0/24'),
      rangeSix: toCidr('fd43::/64'),
      ipFour: '10.43.43.7',
      ipSix: 'fd43::7',
      privateKey: 'cPrivateKeyBase64AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      nodePublicKey: 'nodeKey',
      host: '2001:db8::1',
      port: 51821,
    });
    expect(text).toBe(
      [
        '# Portal: https://portal.example.org/',
        '# Profile: Lab (lab)',
        '# Expires: 2030-01-02T03:04:05+00:00',
        '',
        '[Interface]',
        'PrivateKey = cPrivateKeyBase64AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        'Address = 10.43.43.7/24,fd43::7/64',
        'DNS = 10.43.43.1,fd43::1,lab.example.org',
        '',
        '[Peer]',
        'PublicKey = nodeKey',
        'AllowedIPs = 10.43.43.0/24,192.168.0.0/22,192.168.4.0/24,192.168.6.0/23,192.168.8.0/21,192.168.16.0/20,192.168.32.0/19,192.168.64.0/18,192.168.128.0/17,' +
          '2001:db8::/33,2001:db8:8000::/34,2001:db8:c000::/35,2001:db8:e000::/36,2001:db8:f000::/37,2001:db8:f800::/38,2001:db8:fc00::/39,2001:db8:fe00::/40,' +
          '2001:db8:ff00::/41,2001:db8:ff80::/42,2001:db8:ffc0::/43,2001:db8:ffe0::/44,2001:db8:fff0::/45,2001:db8:fff8::/46,2001:db8:fffc::/47,2001:db8:fffe::/48,fd43::/64',
        'Endpoint = [2001:db8::1]:51821',
        '',
      ].join('\n'),
    );
  });

  it('pushes no DNS without default gateway or search domains', () => {
    const text = wireguardClientConfig({
      portalUrl: 'https://p/',
      profile: { ...employees, default_gateway: false, routes: ['10.0.0.0/8'] },
      expiresAt,
      rangeFour: '10.43.43.0/24',
      rangeSix: 'fd43::/64',
      ipFour: '10.43.43.2',
      ipSix: 'fd43::2',
      nodePublicKey: 'k',
      host: '192.0.2.1',
      port: 51820,
    });
    expect(text).not.toMatch(/^DNS/m);
    expect(text).toMatch(/^AllowedIPs = 10\.0\.0\.0\/8,fd43::\/64$/m);
    expect(text).toMatch(/^Endpoint = 192\.0\.2\.1:51820$/m);
  });

  it('formats expiry as ATOM in UTC without milliseconds', () => {
    expect(atomTimestamp(new Date('2021-08-06T05:59:59.999+02:00'))).toBe('2021-08-06T03:59:59+00:00');
  });
});

/** Replays fixed values so each pick is predictable. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('OpenVPN remotes', () => {
  const udp = [1194, 1195, 53, 443];
  const tcp = [1194, 443, 80, 1196];

  it.each([
    ['UDP first', false, sequence(0.6, 0.2, 0.9, 0.0), ['1195/udp', '53/udp', '1196/tcp', '443/tcp']],
    ['TCP first when preferred', true, sequence(0.6, 0.2, 0.9, 0.0), ['1196/tcp', '443/tcp', '1195/udp', '53/udp']],
    ['a random source of exactly 1 stays in the list', false, sequence(1), ['1195/udp', '443/udp', '1196/tcp', '80/tcp']],
  ])('%s', (_name, preferTcp, random, expected) => {
    expect(selectRemotes(udp, tcp, preferTcp, random).map((r) => `${r.port}/${r.proto}`)).toEqual(expected);
  });

  it('offers only the kinds of port that exist', () => {
    expect(selectRemotes([1194], [], false, Math.random)).toEqual([{ port: 1194, proto: 'udp' }]);
    expect(selectRemotes([443], [80], true, Math.random)).toEqual([
      { port: 80, proto: 'tcp' },
      { port: 443, proto: 'udp' },
    ]);
  });

  it('spreads clients over every normal port', () => {
    const seen = new Set<number>();
    let x = 0.05;
    for (let i = 0; i < 10; i++, x += 0.1) seen.add((selectRemotes([1194, 1195, 1196, 1197], [], false, () => x)[0] as { port: number }).port);
    expect([...seen].sort()).toEqual([1194, 1195, 1196, 1197]);
  });

  it('builds the client config in upstream order', () => {
    const text = openvpnClientConfig({
      portalUrl: 'https://vpn.example.org/',
      profile: { id: 'employees', display_name: 'Employees' },
      expiresAt,
      host: 'node1.example.org',
      udpPorts: [1194],
      tcpPorts: [1194],
      preferTcp: false,
      caPem: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
      certPem: 'CERT',
      keyPem: 'KEY\n',
      tlsCrypt: 'TC\n',
      random: sequence(0),
    });
    expect(text).toBe(
      [
        '# Portal: https://vpn.example.org/',
        '# Profile: Employees (employees)',
        '# Expires: 2021-08-06T03:59:59+00:00',
        'dev tun',
        'client',
        'nobind',
        'remote-cert-tls server',
        'verb 3',
        'server-poll-timeout 10',
        'tls-version-min 1.3',
        'data-ciphers AES-256-GCM:CHACHA20-POLY1305',
        'reneg-sec 0',
        '<ca>',
        '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----',
        '</ca>',
        '<cert>',
        'CERT',
        '</cert>',
        '<key>',
        'KEY',
        '</key>',
        '<tls-crypt>',
        'TC',
        '</tls-crypt>',
        'remote node1.example.org 1194 udp',
        'remote node1.example.org 1194 tcp',
        '',
      ].join('\n'),
    );
  });

  it('formats a 2048-bit tls-crypt key as 16 lines of 32 hex digits', () => {
    const key = tlsCryptKey(Uint8Array.from({ length: 256 }, (_, i) => i));
    const lines = key.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN OpenVPN Static key V1-----');
    expect(lines[1]).toBe('000102030405060708090a0b0c0d0e0f');
    expect(lines[16]).toBe('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
    expect(lines[17]).toBe('-----END OpenVPN Static key V1-----');
    expect(lines).toHaveLength(18);
    expect(() => tlsCryptKey(new Uint8Array(255))).toThrow(RangeError);
    const fresh = generateTlsCryptKey();
    expect(fresh).toMatch(/^-----BEGIN OpenVPN Static key V1-----\n([0-9a-f]{32}\n){16}-----END OpenVPN Static key V1-----\n$/);
    expect(fresh).not.toBe(generateTlsCryptKey());
  });
});

describe('OpenVPN CA (Ed25519, in workerd)', () => {
  const notAfter = new Date('2035-01-01T00:00:00Z');
  const caPromise = createCa({ commonName: 'Edgeport VPN CA', notAfter });

  it('creates a self-signed Ed25519 CA and re-imports it', async () => {
    const { certPem, keyPkcs8Pem } = await caPromise;
    expect(keyPkcs8Pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const ca = await loadCa(certPem, keyPkcs8Pem);
    expect(ca.cert.subject).toBe('CN=Edgeport VPN CA');
    expect(ca.cert.signatureAlgorithm).toMatchObject({ name: 'Ed25519' });
    expect(ca.cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(await ca.cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true })).toBe(true);
    expect(ca.cert.notAfter.toISOString()).toBe(notAfter.toISOString());
  });

  it('refuses a CA key that does not belong to the certificate', async () => {
    const { certPem } = await caPromise;
    const other = await createCa({ commonName: 'Other', notAfter });
    await expect(loadCa(certPem, other.keyPkcs8Pem)).rejects.toThrow(/does not match/);
  });

  it('issues a client certificate: CN, OU = profile, clientAuth, digitalSignature, expiry = authorization', async () => {
    const { certPem, keyPkcs8Pem } = await caPromise;
    const ca = await loadCa(certPem, keyPkcs8Pem);
    const commonName = randomCommonName();
    expect(commonName).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const authorizationExpiry = new Date('2026-08-06T03:59:59Z');
    const before = Date.now();
    const issued = await issueClientCertificate(ca, { commonName, profileId: 'employees', notAfter: authorizationExpiry });

    const cert = new x509.X509Certificate(issued.certPem);
    expect(cert.subjectName.getField('CN')).toEqual([commonName]);
    expect(cert.subjectName.getField('OU')).toEqual(['employees']);
    expect(cert.issuer).toBe(ca.cert.subject);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(cert.notAfter.toISOString()).toBe(authorizationExpiry.toISOString());
    expect(cert.notBefore.getTime()).toBeLessThanOrEqual(before);
    expect(cert.serialNumber).toMatch(/^[0-7][0-9a-f]{31}$/);
    expect(await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true })).toBe(true);

    // The key is PKCS#8 Ed25519 and belongs to the certificate.
    const key = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(issued.keyPem), { name: 'Ed25519' }, false, ['sign']);
    const data = new TextEncoder().encode('hello');
    const sig = await crypto.subtle.sign('Ed25519', key, data);
    expect(await crypto.subtle.verify('Ed25519', await cert.publicKey.export({ name: 'Ed25519' }, ['verify']), sig, data)).toBe(true);

    const second = await issueClientCertificate(ca, { commonName, profileId: 'employees', notAfter: authorizationExpiry });
    expect(new x509.X509Certificate(second.certPem).serialNumber).not.toBe(cert.serialNumber);
  });

  it('signs a node CSR as a serverAuth certificate and refuses a forged CSR', async () => {
    const { certPem, keyPkcs8Pem } = await caPromise;
    const ca = await loadCa(certPem, keyPkcs8Pem);
    const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=ignored', keys, signingAlgorithm: { name: 'Ed25519' } });
    const issued = await issueServerCertificate(ca, { csrPem: csr.toString('pem'), commonName: 'node1.example.org', profileId: 'employees', notAfter });
    const cert = new x509.X509Certificate(issued.certPem);
    expect(cert.subject).toBe('CN=node1.example.org, OU=employees');
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    expect(await cert.publicKey.getThumbprint()).toEqual(await csr.publicKey.getThumbprint());

    const der = new Uint8Array(csr.rawData);
    der[der.length - 1] = (der[der.length - 1] as number) ^ 1; // flip a signature bit
    const forged = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
    await expect(issueServerCertificate(ca, { csrPem: forged, commonName: 'x', profileId: 'employees', notAfter })).rejects.toThrow(/signature/);
  });
});
