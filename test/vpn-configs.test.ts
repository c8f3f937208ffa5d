/**
 * The generated VPN configurations against the real tools: `wg-quick` parses the WireGuard file,
 * `openssl` verifies the certificate chain, and a real OpenVPN client connects to a real OpenVPN
 * server (both in a private network namespace) using the generated .ovpn unchanged.
 * Needs root and the Debian packages wireguard-tools, openvpn, openssl, iproute2.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candidateAt } from '../portal-worker/src/vpn/addresses.ts';
import { createCa, issueClientCertificate, issueServerCertificate, loadCa, randomCommonName, type Ca } from '../portal-worker/src/vpn/ca.ts';
import { generateTlsCryptKey, openvpnClientConfig } from '../portal-worker/src/vpn/openvpn-config.ts';
import { wireguardClientConfig } from '../portal-worker/src/vpn/wireguard-config.ts';
import { openvpnServerConfig, requireVpnTools, run, Sandbox, sh, stop, waitFor } from './support/vpn-tools.ts';

const sandbox = new Sandbox();
let dir = '';

beforeAll(async () => {
  await requireVpnTools();
  dir = await sandbox.tempDir('ep-vpncfg-');
});

afterAll(async () => {
  await sandbox.cleanup();
});

const profile = {
  id: 'employees',
  display_name: 'Employees',
  default_gateway: true,
  dns_servers: ['@GW4@', '2620:fe::fe'],
  dns_search_domains: ['example.org'],
  routes: [],
  exclude_routes: ['192.168.0.0/16', '2001:db8::/32'],
};

describe('WireGuard client config with wg-quick', () => {
  it('is accepted by `wg-quick strip`, leaving exactly the wg(8) keys', async () => {
    const privateKey = (await sh('wg', ['genkey'])).trim();
    const nodePublicKey = (await sh('wg', ['pubkey'], await sh('wg', ['genkey']))).trim();
    const text = wireguardClientConfig({
      portalUrl: 'https://vpn.example.org/',
      profile,
      expiresAt: new Date(Date.now() + 86_400_000),
      rangeFour: '10.43.43.0/24',
      rangeSix: 'fd43::/64',
      ...candidateAt('10.43.43.0/24', 'fd43::/64', 5),
      privateKey,
      nodePublicKey,
      host: '2001:db8::1',
      port: 51820,
    });
    // wg-quick takes the interface name from the file name and warns about readable key files.
    const file = join(dir, 'ep0.conf');
    await writeFile(file, text, { mode: 0o600 });
    const { stdout, stderr } = await run('wg-quick', ['strip', file], { encoding: 'utf8' });
    expect(stderr).toBe('');
    // strip keeps comments and blank lines; what is left must be exactly the keys wg(8) understands.
    const keys = stdout.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(keys.map((l) => l.split(' = ')[0])).toEqual(['[Interface]', 'PrivateKey', '[Peer]', 'PublicKey', 'AllowedIPs', 'Endpoint']);
    expect(keys).toContain(`PrivateKey = ${privateKey}`);
    expect(keys).toContain(`PublicKey = ${nodePublicKey}`);
    expect(keys).toContain('Endpoint = [2001:db8::1]:51820');
    expect(keys.find((l) => l.startsWith('AllowedIPs = '))).toMatch(/^AllowedIPs = 0\.0\.0\.0\/1,.*,192\.169\.0\.0\/16,.*,::\/3,.*,2001:db9::\/32,.*,8000::\/1$/);
    expect(text).toMatch(/^DNS = 10\.43\.43\.1,2620:fe::fe,example\.org$/m);

    // wg(8) itself: load the stripped file into a real (userspace) interface and read it back.
    const wgns = await sandbox.netns('ep_wgcfg_');
    const { name: ifname, proc: wgGo } = await sandbox.wireguardGo(wgns, 'epc');
    const stripped = join(dir, 'stripped.conf');
    await writeFile(stripped, stdout, { mode: 0o600 });
    await run('ip', ['netns', 'exec', wgns, 'wg', 'setconf', ifname, stripped]);
    const dump = (await sh('ip', ['netns', 'exec', wgns, 'wg', 'show', ifname, 'dump'])).trim().split('\n');
    expect(dump[0]?.split('\t')[0]).toBe(privateKey);
    const peer = dump[1]?.split('\t') ?? [];
    expect(peer[0]).toBe(nodePublicKey);
    expect(peer[2]).toBe('[2001:db8::1]:51820');
    expect(peer[3]?.split(',')).toContain('0.0.0.0/1');
    await run('ip', ['-n', wgns, 'link', 'del', ifname]);
    await stop(wgGo.p);
  });
});

describe('OpenVPN: CA, certificates and client config with openssl and openvpn', () => {
  let ca: Ca;
  const notAfter = new Date(Date.now() + 86_400_000);

  beforeAll(async () => {
    const stored = await createCa({ commonName: 'Edgeport test CA', notAfter: new Date(Date.now() + 10 * 86_400_000) });
    ca = await loadCa(stored.certPem, stored.keyPkcs8Pem);
    const client = await issueClientCertificate(ca, { commonName: randomCommonName(), profileId: 'employees', notAfter });
    // The node makes its own key and CSR with openssl; the portal only signs.
    await sh('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'server.key')]);
    await sh('openssl', ['req', '-new', '-key', join(dir, 'server.key'), '-subj', '/CN=from-csr', '-out', join(dir, 'server.csr')]);
    const csrPem = await readFile(join(dir, 'server.csr'), 'utf8');
    const server = await issueServerCertificate(ca, { csrPem, commonName: 'node0.example.org', profileId: 'employees', notAfter });
    await writeFile(join(dir, 'ca.pem'), ca.certPem);
    await writeFile(join(dir, 'client.pem'), client.certPem);
    await writeFile(join(dir, 'client.key'), client.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'server.pem'), server.certPem);
  });

  it('client and server certificates verify against the CA with the right purpose', async () => {
    const verify = (purpose: string, file: string) => run('openssl', ['verify', '-purpose', purpose, '-CAfile', join(dir, 'ca.pem'), join(dir, file)], { encoding: 'utf8' });
    expect((await verify('sslclient', 'client.pem')).stdout.trim()).toBe(`${join(dir, 'client.pem')}: OK`);
    expect((await verify('sslserver', 'server.pem')).stdout.trim()).toBe(`${join(dir, 'server.pem')}: OK`);
    // The EKU is real: a client certificate is no server certificate and vice versa.
    await expect(verify('sslserver', 'client.pem')).rejects.toThrow(/unsuitable certificate purpose/);
    await expect(verify('sslclient', 'server.pem')).rejects.toThrow(/unsuitable certificate purpose/);
    const subject = await sh('openssl', ['x509', '-in', join(dir, 'server.pem'), '-noout', '-subject']);
    expect(subject.trim()).toBe('subject=CN = node0.example.org, OU = employees');
    // openssl reads our PKCS#8 key as Ed25519.
    expect(await sh('openssl', ['pkey', '-in', join(dir, 'client.key'), '-noout', '-text'])).toMatch(/ED25519 Private-Key/);
  });

  it('a real OpenVPN client connects with the generated .ovpn to a server using the issued certificate', async () => {
    expect(process.getuid?.(), 'network namespaces and tun devices need root').toBe(0);
    const netns = await sandbox.netns('ep_vpncfg_');
    const start = (args: string[]) => sandbox.spawnIn(netns, 'openvpn', args);

    const tlsCrypt = generateTlsCryptKey();
    const serverConf = openvpnServerConfig({
      local: '127.0.0.1',
      port: 1194,
      server: '10.99.0.0 255.255.255.0',
      serverIpv6: 'fd99::/112',
      caPem: ca.certPem,
      certPem: await readFile(join(dir, 'server.pem'), 'utf8'),
      keyPem: await readFile(join(dir, 'server.key'), 'utf8'),
      tlsCrypt,
    });
    await writeFile(join(dir, 'server.conf'), serverConf, { mode: 0o600 });

    const clientConf = openvpnClientConfig({
      portalUrl: 'https://vpn.example.org/',
      profile,
      expiresAt: notAfter,
      host: '127.0.0.1',
      udpPorts: [1194],
      tcpPorts: [],
      preferTcp: false,
      caPem: ca.certPem,
      certPem: await readFile(join(dir, 'client.pem'), 'utf8'),
      keyPem: await readFile(join(dir, 'client.key'), 'utf8'),
      tlsCrypt,
      random: Math.random,
    });
    expect(clientConf).toMatch(/\nremote 127\.0\.0\.1 1194 udp\n$/);
    await writeFile(join(dir, 'client.ovpn'), clientConf, { mode: 0o600 });

    const server = start(['--config', join(dir, 'server.conf')]);
    await waitFor(server, /Initialization Sequence Completed/, 15_000);
    const client = start(['--config', join(dir, 'client.ovpn'), '--verb', '4']);
    await waitFor(client, /Initialization Sequence Completed/, 20_000);

    const clientLog = client.log();
    expect(clientLog).not.toMatch(/Options error|ERROR:/);
    expect(clientLog).toMatch(/VERIFY OK: depth=0, CN=node0\.example\.org, OU=employees/);
    expect(clientLog).toMatch(/VERIFY EKU OK/);
    expect(clientLog).toMatch(/TLSv1\.3/);
    expect(clientLog).toMatch(/Outgoing Data Channel: Cipher 'AES-256-GCM'/);
    expect(clientLog).toMatch(/10\.99\.0\.\d+\/24/);
    expect(server.log()).toMatch(/VERIFY OK: depth=0, CN=[A-Za-z0-9_-]{43}, OU=employees/);
    await stop(client.p);

    // The server really checks the chain: a certificate from another CA (same tls-crypt key) is refused.
    const otherCa = await createCa({ commonName: 'Someone else', notAfter });
    const foreign = await issueClientCertificate(await loadCa(otherCa.certPem, otherCa.keyPkcs8Pem), { commonName: 'intruder', profileId: 'employees', notAfter });
    await writeFile(join(dir, 'foreign.ovpn'), clientConf.replace(/<cert>[\s\S]*<\/key>/, `<cert>\n${foreign.certPem.trim()}\n</cert>\n<key>\n${foreign.keyPem.trim()}\n</key>`), { mode: 0o600 });
    const intruder = start(['--config', join(dir, 'foreign.ovpn')]);
    await waitFor(server, /VERIFY ERROR: depth=0, error=unable to get local issuer certificate.*CN=intruder/, 15_000);
    expect(intruder.log()).not.toMatch(/Initialization Sequence Completed/);
    // VPN_LOGS=1 prints both sides for debugging.
    if (process.env.VPN_LOGS) console.log(clientLog, '\n----- server -----\n', server.log());
    await stop(intruder.p);
    await stop(server.p);
  });
});
