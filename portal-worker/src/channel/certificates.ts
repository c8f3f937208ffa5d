// @peculiar/x509 relies on the reflect-metadata API, which workerd lacks; the polyfill must load first.
import '@abraham/reflection';
import * as x509 from '@peculiar/x509';
import type { Db } from '../core/db.ts';
import { findAssignment } from '../store/nodes.ts';
import { fromRow } from '../store/profiles.ts';
import type { Ca } from '../vpn/ca.ts';
import { issueServerCertificate } from '../vpn/ca.ts';

/** A node server certificate lives at most this long; the agent asks again well before the end. */
export const SERVER_CERT_MAX_MS = 365 * 86_400_000;

export type CsrOutcome =
  | { kind: 'issued'; profileId: string; certPem: string; commonName: string; notAfter: number }
  /** The node asked for something it may not have or sent a request that does not hold up. */
  | { kind: 'refused'; reason: string }
  /** The portal cannot sign (no CA configured): not the node's fault. */
  | { kind: 'unavailable'; reason: string };

/**
 * Where the node answers for this profile: the assignment's own host name, else the node's.
 * Refused if the node does not serve the profile (node_profiles), is revoked, or the profile has
 * no OpenVPN.
 */
export async function serverIdentity(db: Db, nodeId: string, profileId: string): Promise<{ hostName: string } | { refused: string }> {
  const row = await findAssignment(db, nodeId, profileId);
  if (!row || row.node_revoked_at !== null) return { refused: `this node does not serve profile "${profileId}"` };
  // The same rule desiredConfigFor uses: a profile without OpenVPN gets no servers on any node.
  if (!fromRow(row).openvpn) return { refused: `profile "${profileId}" has no OpenVPN` };
  return { hostName: row.assigned_host ?? row.node_host };
}

/** Parses and checks proof of possession before anything is signed; a bad request is the node's error. */
async function checkRequest(pem: string): Promise<string | null> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    return 'the certificate request is not a PKCS#10 request';
  }
  try {
    if (!(await csr.verify())) return 'the certificate request signature is invalid';
  } catch (err) {
    return `the certificate request cannot be verified: ${(err as Error).message}`.slice(0, 300);
  }
  return null;
}

/**
 * The answer to a node's `csr` (docs/eduvpn.md §2.3): a serverAuth certificate for the node's own key
 * with CN = the host name clients reach it by for this profile and OU = the profile id. Whatever
 * subject the request names is ignored: the portal decides the identity, the node only proves it
 * holds the key.
 */
export async function answerCsr(db: Db, ca: () => Promise<Ca>, nodeId: string, request: { profile_id: string; csr: string }, now: number): Promise<CsrOutcome> {
  const identity = await serverIdentity(db, nodeId, request.profile_id);
  if ('refused' in identity) return { kind: 'refused', reason: identity.refused };
  const bad = await checkRequest(request.csr);
  if (bad) return { kind: 'refused', reason: bad };
  let authority: Ca;
  try {
    authority = await ca();
  } catch (err) {
    return { kind: 'unavailable', reason: (err as Error).message };
  }
  // Never past the CA itself: a chain that expires earlier than its leaf fails anyway.
  const notAfter = Math.min(authority.cert.notAfter.getTime(), now + SERVER_CERT_MAX_MS);
  const { certPem } = await issueServerCertificate(authority, {
    csrPem: request.csr,
    commonName: identity.hostName,
    profileId: request.profile_id,
    notAfter: new Date(notAfter),
  });
  return { kind: 'issued', profileId: request.profile_id, certPem, commonName: identity.hostName, notAfter };
}
