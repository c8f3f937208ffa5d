/**
 * The portal as the OpenVPN certificate authority: Ed25519 throughout (small keys, fast signing,
 * accepted by OpenVPN 2.6 with TLS 1.3; see docs/architecture.md "Crypto inside workerd"). The CA key is a
 * Worker secret shared by every isolate; nothing here generates a CA on the fly.
 */
// @peculiar/x509 relies on the reflect-metadata API, which workerd lacks; the polyfill must load first.
import '@abraham/reflection';
import * as x509 from '@peculiar/x509';

const ED25519 = { name: 'Ed25519' };
// OpenVPN nodes and clients may run slightly behind the portal's clock; a certificate "not yet
// valid" for a few seconds would fail a fresh connection.
const BACKDATE_MS = 5 * 60 * 1000;

export interface CaPem {
  certPem: string;
  keyPkcs8Pem: string;
}

/** A loaded CA, ready to sign. */
export interface Ca {
  cert: x509.X509Certificate;
  certPem: string;
  privateKey: CryptoKey;
}

export interface IssuedPem {
  certPem: string;
  keyPem: string;
}

async function ed25519KeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = (await crypto.subtle.exportKey('pkcs8', key)) as ArrayBuffer;
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** 128 random bits, positive and without a leading zero byte, so the DER INTEGER keeps 16 bytes. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The random CN of an API-issued client certificate: 32 random bytes, base64url (no "/" or "="). */
export function randomCommonName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

// JSON names, not "CN=…" strings: a CN may hold characters the string syntax would split on.
const subject = (commonName: string, unit?: string): x509.JsonName => [{ CN: [commonName] }, ...(unit ? [{ OU: [unit] }] : [])];

/** A self-signed CA certificate and its key, to be stored as secrets. */
export async function createCa(params: { commonName: string; notAfter: Date; notBefore?: Date }): Promise<CaPem> {
  const keys = await ed25519KeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subject(params.commonName),
    notBefore: params.notBefore ?? new Date(Date.now() - BACKDATE_MS),
    notAfter: params.notAfter,
    keys,
    signingAlgorithm: ED25519,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPkcs8Pem: await pkcs8Pem(keys.privateKey) };
}

/** Re-imports a stored CA and proves the key belongs to the certificate (a mismatched secret would sign garbage). */
export async function loadCa(certPem: string, keyPem: string): Promise<Ca> {
  const cert = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decodeFirst(keyPem);
  const privateKey = await crypto.subtle.importKey('pkcs8', der, ED25519, false, ['sign']);
  const probe = new TextEncoder().encode('edgeport ca key check');
  const signature = await crypto.subtle.sign(ED25519, privateKey, probe);
  const publicKey = await cert.publicKey.export(ED25519, ['verify']);
  if (!(await crypto.subtle.verify(ED25519, publicKey, signature, probe))) {
    throw new Error('the CA private key does not match the CA certificate');
  }
  return { cert, certPem: cert.toString('pem'), privateKey };
}

interface LeafParams {
  commonName: string;
  /** Becomes the OU; the node's connect hook checks it against the profile (docs/eduvpn.md §3.2). */
  profileId: string;
  /** The authorization's expiry: the certificate must not outlive it. */
  notAfter: Date;
  notBefore?: Date;
}

async function signLeaf(ca: Ca, params: LeafParams, publicKey: x509.PublicKeyType, usage: x509.ExtendedKeyUsage): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: subject(params.commonName, params.profileId),
    issuer: ca.cert.subjectName,
    notBefore: params.notBefore ?? new Date(Date.now() - BACKDATE_MS),
    notAfter: params.notAfter,
    publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ED25519,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // Ed25519 only signs; `remote-cert-tls` needs a key usage present and the matching EKU.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
}

/** A client certificate with a fresh key pair (the key is part of the .ovpn file). */
export async function issueClientCertificate(ca: Ca, params: LeafParams): Promise<IssuedPem> {
  const keys = await ed25519KeyPair();
  const cert = await signLeaf(ca, params, keys.publicKey, x509.ExtendedKeyUsage.clientAuth);
  return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(keys.privateKey) };
}

/** A node's server certificate from its CSR: the node keeps its private key. */
export async function issueServerCertificate(ca: Ca, params: LeafParams & { csrPem: string }): Promise<{ certPem: string }> {
  const csr = new x509.Pkcs10CertificateRequest(params.csrPem);
  // Proof of possession: without it anyone could get a certificate for someone else's key.
  if (!(await csr.verify())) throw new Error('the certificate request signature is invalid');
  const cert = await signLeaf(ca, params, csr.publicKey, x509.ExtendedKeyUsage.serverAuth);
  return { certPem: cert.toString('pem') };
}
