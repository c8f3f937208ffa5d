import { signToken, signingKeys } from '../src/oauth/tokens.ts';
import { randomToken } from '../src/core/crypto.ts';
import { type Browser, dbFor, makeUser, signedIn, unique, type Driver } from './helpers.ts';
import { env } from 'cloudflare:workers';
import { TestNode, enrollNode } from './test-node.ts';

/** A real Curve25519 public key, as `wg pubkey` would print it. */
export async function wgPublicKey(): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer);
  return btoa(String.fromCharCode(...raw));
}

let block = Math.floor(Math.random() * 200);

export interface Provisioned {
  admin: Browser;
  agent: TestNode | null;
  profileId: string;
  nodeId: string;
  nodeKey: string;
  wgRange: { range_four: string; range_six: string };
}

/** A profile with both protocols, served by one node that uses the profile's ranges. */
/** With `agent` (the default) a test node is enrolled and connected, so connects reach it. */
export async function provision(driver: Driver, profile: Record<string, unknown> = {}, vars: Record<string, string> = {}, agent = true): Promise<Provisioned> {
  const { browser: admin } = await signedIn(driver, { admin: true, vars });
  const profileId = unique('prof');
  // Test files run in parallel against one MariaDB, and profile ranges may not overlap anywhere:
  // pick random ranges and pick again on the rare overlap another file got first. (172.20-23 for
  // OpenVPN: 172.16-19 and 172.24-31 and 100.64/10 are other test files' own blocks.)
  let created: Response | null = null;
  let refusal = '';
  let wgRange = { range_four: '', range_six: '' };
  for (let attempt = 0; attempt < 8; attempt++) {
    const n = (block = (block + 1 + Math.floor(Math.random() * 50)) % 250);
    const m = Math.floor(Math.random() * 250);
    wgRange = { range_four: `10.${m}.${n}.0/24`, range_six: `fd10:${m.toString(16)}:${n.toString(16)}::/64` };
    const body = {
      id: profileId,
      display_name: 'Employees',
      host_name: 'vpn.example.org',
      dns_servers: ['9.9.9.9'],
      wireguard: wgRange,
      openvpn: { range_four: `172.${20 + (m % 4)}.${n}.0/24`, range_six: `fd20:${m.toString(16)}:${n.toString(16)}::/64`, udp_ports: [1194], tcp_ports: [1194] },
      ...profile,
    };
    created = await admin.api('POST', '/admin/api/profiles', body);
    if (created.status === 201) break;
    refusal = await created.text();
    if (!refusal.includes('overlaps')) throw new Error(`profile: ${created.status} ${refusal}`);
  }
  if (created?.status !== 201) throw new Error(`profile: no free range after 8 attempts: ${refusal}`);
  const nodeKey = await wgPublicKey();
  const nodeId = unique('node');
  const node = await admin.api('POST', '/admin/api/nodes', { id: nodeId, name: nodeId, host_name: `${nodeId}.vpn.example.org`, wg_public_key: nodeKey, profiles: [{ profile_id: profileId }] });
  if (node.status !== 201) throw new Error(`node: ${node.status} ${await node.text()}`);
  const testNode = agent ? await TestNode.start(nodeId, await enrollNode(admin, nodeId, driver), driver) : null;
  return { admin, agent: testNode, profileId, nodeId, nodeKey, wgRange };
}

/**
 * An app authorization and its access token made directly (the OAuth flow itself is tested in
 * oauth.test.ts): many of them make concurrency tests cheap.
 */
export async function directToken(driver: Driver, userId: string, clientId = 'org.eduvpn.app.linux'): Promise<{ token: string; authorizationId: string; expiresAt: number }> {
  const db = await dbFor(driver);
  const now = Date.now();
  const id = randomToken(24);
  const expiresAt = now + 90 * 86_400_000;
  await db.kysely
    .insertInto('oauth_authorizations')
    .values({ id, user_id: userId, client_id: clientId, scope: 'config', created_at: now, expires_at: expiresAt, refresh_seq: 0, last_used_at: now })
    .execute();
  const keys = await signingKeys(env.OAUTH_SIGNING_KEY);
  return { token: await signToken(keys, 'access', { auth: id }, userId, now + 3_600_000, now), authorizationId: id, expiresAt };
}

export async function appUser(driver: Driver, permissions: string[] = []): Promise<string> {
  return makeUser(driver, { permissions });
}
