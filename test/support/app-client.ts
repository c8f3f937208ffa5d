import { createHash, randomBytes } from 'node:crypto';
import { x25519PublicKey } from '../../node-agent/src/wireguard/keys.ts';
import { HttpBrowser } from './browser.ts';

const CLIENT_ID = 'org.eduvpn.app.linux';
const REDIRECT = 'http://127.0.0.1:52111/callback';

/**
 * What an eduVPN app does to get tokens, in plain HTTP: authorize with PKCE through the real
 * login form and consent page, then exchange the code. (test/oauth-flow.test.ts checks the same
 * flow with an independent OAuth library; this helper serves tests about other things.)
 */
export async function appAccessToken(origin: string, user: string, password: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const browser = new HttpBrowser(origin);
  const query = new URLSearchParams({ client_id: CLIENT_ID, redirect_uri: REDIRECT, response_type: 'code', scope: 'config', state: 's', code_challenge_method: 'S256', code_challenge: challenge });
  const path = `/oauth/authorize?${query}`;
  if ((await browser.login(user, password, path)).status !== 303) throw new Error('login failed');
  const page = await (await browser.fetch(path)).text();
  const fields = Object.fromEntries([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1] as string, (m[2] as string).replace(/&amp;/g, '&')]));
  const approved = await browser.form('/oauth/authorize', { ...fields, decision: 'approve' });
  const code = new URL(approved.headers.get('location') as string).searchParams.get('code');
  if (!code) throw new Error(`no code: ${approved.status}`);
  const r = await fetch(`${origin}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT_ID, code, redirect_uri: REDIRECT, code_verifier: verifier }),
  });
  return ((await r.json()) as { access_token: string }).access_token;
}

export async function appConnect(origin: string, token: string, profileId: string, publicKey: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`${origin}/api/v3/connect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, accept: 'application/x-wireguard-profile', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ profile_id: profileId, public_key: publicKey, prefer_tcp: 'no' }),
  });
  return { status: r.status, body: await r.text() };
}

export async function appDisconnect(origin: string, token: string): Promise<number> {
  return (await fetch(`${origin}/api/v3/disconnect`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status;
}

/** A real X25519 public key in WireGuard's base64 form (no KeyObject export: see node-agent's x25519PublicKey). */
export const wgKey = x25519PublicKey;
