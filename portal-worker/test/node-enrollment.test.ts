import { describe, expect, it } from 'vitest';
import { authenticateNode } from '../src/domain/enrollment.ts';
import { desiredConfigFor } from '../src/domain/desired-config.ts';
import { Browser, dbFor, signedIn } from './helpers.ts';
import { apiCall, appTokens } from './oauth-helpers.ts';
import { provision, wgPublicKey } from './connect-helpers.ts';

function enroll(b: Browser, nodeId: string, token: string) {
  return b.fetch('/node/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: nodeId, token }) });
}

describe('node enrollment', () => {
  it('trades a one-time token for a credential that authenticates the node until it is revoked', async () => {
    const p = await provision('d1');
    const r = await p.admin.api('POST', `/admin/api/nodes/${p.nodeId}/enrollment`);
    expect(r.status).toBe(201);
    const { token, command } = await r.json<{ token: string; command: string }>();
    expect(command).toContain(`--node ${p.nodeId} --token ${token}`);

    const agent = new Browser();
    const first = await enroll(agent, p.nodeId, token);
    expect(first.status).toBe(201);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const { credential } = await first.json<{ credential: string }>();
    expect(credential).toMatch(/^epn_[\w-]{43}$/);
    // Single use.
    expect((await enroll(agent, p.nodeId, token)).status).toBe(401);

    const db = await dbFor('d1');
    expect(await authenticateNode(db, p.nodeId, credential)).toEqual({ id: p.nodeId });
    expect(await authenticateNode(db, p.nodeId, `${credential}x`)).toBeNull();
    expect(await authenticateNode(db, 'other-node', credential)).toBeNull();
    // Only the hash is stored.
    const row = await db.kysely.selectFrom('nodes').select(['credential_hash']).where('id', '=', p.nodeId).executeTakeFirstOrThrow();
    expect(row.credential_hash).not.toContain(credential);

    expect((await p.admin.api('POST', `/admin/api/nodes/${p.nodeId}/revoke`)).status).toBe(200);
    expect(await authenticateNode(db, p.nodeId, credential)).toBeNull();
    expect((await p.admin.api('POST', `/admin/api/nodes/${p.nodeId}/enrollment`)).status).toBe(409);
  });

  it('refuses an expired token, a token for another node, and a malformed request', async () => {
    const p = await provision('d1');
    const { token } = await (await p.admin.api('POST', `/admin/api/nodes/${p.nodeId}/enrollment`)).json<{ token: string }>();
    const agent = new Browser();
    expect((await enroll(agent, 'some-other-node', token)).status).toBe(401);
    const bad = await agent.fetch('/node/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"node":1}' });
    expect(bad.status).toBe(400);
    const db = await dbFor('d1');
    await db.kysely
      .updateTable('nodes')
      .set({ enrollment_expires_at: Date.now() - 1 })
      .where('id', '=', p.nodeId)
      .execute();
    const expired = await enroll(agent, p.nodeId, token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('desired config of a node', () => {
  it('carries the profiles with this node ranges, the live peers and certificates, and the CA', async () => {
    const p = await provision('d1');
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const key = await wgPublicKey();
    expect((await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, { accept: 'application/x-wireguard-profile' })).status).toBe(200);
    const other = await appTokens(browser);
    expect((await apiCall(browser, other.access_token, 'POST', '/connect', { profile_id: p.profileId }, { accept: 'application/x-openvpn-profile' })).status).toBe(200);

    const db = await dbFor('d1');
    const config = await desiredConfigFor(db, p.nodeId, 5, 'CA PEM', Date.now());
    expect(config).toMatchObject({ node_id: p.nodeId, revision: 5, ca_cert: 'CA PEM' });
    expect(config.profiles).toHaveLength(1);
    expect(config.profiles[0]?.wireguard).toEqual({ ...p.wgRange, port: 51820 });
    expect(config.profiles[0]?.openvpn?.tls_crypt_key).toContain('BEGIN OpenVPN Static key V1');
    expect(config.peers).toEqual([expect.objectContaining({ public_key: key, profile_id: p.profileId, ip_four: p.wgRange.range_four.replace('0/24', '2') })]);
    expect(config.certificates).toHaveLength(1);
    // Expired configurations are not sent.
    await db.kysely
      .updateTable('wg_peers')
      .set({ expires_at: Date.now() - 1 })
      .where('public_key', '=', key)
      .execute();
    expect((await desiredConfigFor(db, p.nodeId, 6, null, Date.now())).peers).toEqual([]);
  });
});
