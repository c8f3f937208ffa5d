// @peculiar/x509 relies on the reflect-metadata API, which workerd lacks; the polyfill must load first.
import '@abraham/reflection';
import * as x509 from '@peculiar/x509';
import { env } from 'cloudflare:workers';
import type { HubMessage } from '@edgeport/schema';
import { describe, expect, it } from 'vitest';
import { SERVER_CERT_MAX_MS } from '../src/channel/certificates.ts';
import { provision } from './connect-helpers.ts';
import { enrollNode, open, type NodeSocket } from './test-node.ts';

/**
 * A node's OpenVPN server certificate over the real channel: the node proves it holds a key with
 * a CSR, the portal decides the identity (CN = the host name clients reach, OU = the profile).
 */

// The test env holds the CA as base64 of its PEM, as `npm run secrets` writes it.
const caCert = new x509.X509Certificate(atob(env.VPN_CA_CERT as string));

async function csrFor(subject = 'CN=claimed-by-the-node, OU=some-other-profile') {
  const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: { name: 'Ed25519' } });
  return { keys, csr, pem: csr.toString('pem') };
}

/** The next certificate or error, past the snapshots a connect or an edit sends. */
async function answer(node: NodeSocket): Promise<Extract<HubMessage, { type: 'certificate' | 'error' }>> {
  for (;;) {
    const m = await node.next(5000, 'answer to the csr');
    if (m.type === 'certificate' || m.type === 'error') return m;
  }
}

async function connectedNode(profile: Record<string, unknown> = {}) {
  const p = await provision('d1', profile, {}, false);
  const credential = await enrollNode(p.admin, p.nodeId);
  const { node } = await open(p.nodeId, credential);
  if (!node) throw new Error('the node could not connect');
  node.hello(p.nodeId, null);
  expect((await node.next(5000, 'snapshot')).type).toBe('snapshot');
  return { ...p, node };
}

describe('node server certificates', () => {
  it('signs the node key with CN = the node host name, OU = the profile, serverAuth, chaining to the CA', async () => {
    const n = await connectedNode();
    const { csr, pem } = await csrFor();
    const before = Date.now();
    n.node.send({ type: 'csr', profile_id: n.profileId, csr: pem });
    const m = await answer(n.node);
    if (m.type !== 'certificate') throw new Error(`expected a certificate, got ${JSON.stringify(m)}`);
    expect(m.profile_id).toBe(n.profileId);

    const cert = new x509.X509Certificate(m.cert);
    expect(cert.subjectName.getField('CN')).toEqual([`${n.nodeId}.vpn.example.org`]);
    expect(cert.subjectName.getField('OU')).toEqual([n.profileId]);
    expect(cert.issuer).toBe(caCert.subject);
    expect(await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true })).toBe(true);
    const chain = await new x509.X509ChainBuilder({ certificates: [caCert] }).build(cert);
    expect(chain.map((c) => c.subject)).toEqual([cert.subject, caCert.subject]);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    // The node's own key, not one the portal made.
    expect(await cert.publicKey.getThumbprint()).toEqual(await csr.publicKey.getThumbprint());
    // One year, unless the CA ends sooner (the test CA lives ten years); x509 times are whole seconds.
    const expected = Math.min(caCert.notAfter.getTime(), before + SERVER_CERT_MAX_MS);
    expect(cert.notAfter.getTime()).toBeGreaterThanOrEqual(expected - 1000);
    expect(cert.notAfter.getTime()).toBeLessThanOrEqual(Math.min(caCert.notAfter.getTime(), Date.now() + SERVER_CERT_MAX_MS));

    // The assignment's own host name wins over the node's.
    const edit = await n.admin.api('PUT', `/admin/api/nodes/${n.nodeId}`, {
      id: n.nodeId,
      name: n.nodeId,
      host_name: `${n.nodeId}.vpn.example.org`,
      profiles: [{ profile_id: n.profileId, host_name: 'ovpn-ams.example.org' }],
    });
    expect(edit.status).toBe(200);
    n.node.send({ type: 'csr', profile_id: n.profileId, csr: (await csrFor()).pem });
    const again = await answer(n.node);
    if (again.type !== 'certificate') throw new Error(`expected a certificate, got ${JSON.stringify(again)}`);
    expect(new x509.X509Certificate(again.cert).subject).toBe(`CN=ovpn-ams.example.org, OU=${n.profileId}`);
    n.node.ws.close();
  });

  it('refuses profiles the node does not serve with OpenVPN, and bad requests, keeping the socket usable', async () => {
    const n = await connectedNode();
    const other = await provision('d1', {}, {}, false);
    const wgOnly = await connectedNode({ openvpn: null });
    const { pem } = await csrFor();

    const refusals: [string, NodeSocket, string, RegExp][] = [
      ['a profile another node serves', n.node, other.profileId, /does not serve/],
      ['a profile that does not exist', n.node, 'no-such-profile', /does not serve/],
      ['a profile without OpenVPN', wgOnly.node, wgOnly.profileId, /has no OpenVPN/],
    ];
    for (const [what, node, profile, reason] of refusals) {
      node.send({ type: 'csr', profile_id: profile, csr: pem });
      const m = await answer(node);
      expect(m, what).toMatchObject({ type: 'error', code: 'protocol', message: expect.stringMatching(reason) });
    }

    n.node.send({ type: 'csr', profile_id: n.profileId, csr: 'not a certificate request' });
    expect(await answer(n.node)).toMatchObject({ type: 'error', code: 'protocol', message: expect.stringMatching(/not a PKCS#10 request/) });

    // A request whose signature does not match its key: no proof of possession.
    const der = new Uint8Array((await csrFor()).csr.rawData);
    der[der.length - 1] = (der[der.length - 1] as number) ^ 1;
    n.node.send({ type: 'csr', profile_id: n.profileId, csr: x509.PemConverter.encode(der, 'CERTIFICATE REQUEST') });
    expect(await answer(n.node)).toMatchObject({ type: 'error', code: 'protocol', message: expect.stringMatching(/signature is invalid/) });

    // Still the same connection, still answering.
    expect(n.node.closed).toBeNull();
    n.node.send({ type: 'csr', profile_id: n.profileId, csr: pem });
    expect(await answer(n.node)).toMatchObject({ type: 'certificate', profile_id: n.profileId });
    n.node.send({ type: 'ack', revision: 0 });
    expect(await n.node.quiet()).toBe(true);
    expect(n.node.closed).toBeNull();
    n.node.ws.close();
    wgOnly.node.ws.close();
  });

  it('accepts OpenVPN events without answering', async () => {
    const n = await connectedNode();
    n.node.send({ type: 'openvpn_event', event: 'connect', at: Date.now(), common_name: 'abc', profile_id: n.profileId, ip_four: '172.20.0.2', ip_six: null, originating_ip: '192.0.2.1' });
    expect(await n.node.quiet()).toBe(true);
    expect(n.node.closed).toBeNull();
    n.node.ws.close();
  });
});
