import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { signToken, signingKeys } from '../src/oauth/tokens.ts';
import { redirectUriAllowed } from '../src/domain/oauth-clients.ts';
import { Browser, dbFor, signedIn } from './helpers.ts';
import { CLIENT_ID, REDIRECT, apiCall, appTokens, approve, authorizeQuery, pkcePair, tokenRequest } from './oauth-helpers.ts';

async function authorizeError(query: string) {
  const { browser } = await signedIn('d1');
  const r = await browser.fetch(`/oauth/authorize?${query}`);
  expect(r.status).toBe(302);
  return new URL(r.headers.get('location') as string).searchParams;
}

describe('authorization endpoint', () => {
  it('sends an anonymous user to the login form and back', async () => {
    const { challenge } = await pkcePair();
    const r = await new Browser().fetch(`/oauth/authorize?${authorizeQuery(challenge)}`);
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toMatch(/^\/login\?next=%2Foauth%2Fauthorize%3F/);
  });

  it('requires PKCE with S256', async () => {
    const { challenge } = await pkcePair();
    expect(Object.fromEntries(await authorizeError(authorizeQuery(challenge, { code_challenge: null, code_challenge_method: null })))).toMatchObject({ error: 'invalid_request', state: 'st4te' });
    expect((await authorizeError(authorizeQuery(challenge, { code_challenge_method: 'plain' }))).get('error')).toBe('invalid_request');
    expect(await authorizeError(authorizeQuery('too-short')).then((p) => p.get('error'))).toBe('invalid_request');
  });

  it('refuses other response types, scopes, missing state and repeated parameters', async () => {
    const { challenge } = await pkcePair();
    expect((await authorizeError(authorizeQuery(challenge, { response_type: 'token' }))).get('error')).toBe('unsupported_response_type');
    expect((await authorizeError(authorizeQuery(challenge, { scope: 'config admin' }))).get('error')).toBe('invalid_scope');
    expect((await authorizeError(authorizeQuery(challenge, { state: null }))).get('error')).toBe('invalid_request');
    expect((await authorizeError(`${authorizeQuery(challenge)}&scope=config`)).get('error')).toBe('invalid_request');
  });

  it('never redirects to an unregistered redirect URI or for an unknown client', async () => {
    const { browser } = await signedIn('d1');
    const { challenge } = await pkcePair();
    const cases: Record<string, string>[] = [
      { redirect_uri: 'http://127.0.0.1:43210/elsewhere' },
      { redirect_uri: 'http://localhost:43210/callback' },
      { redirect_uri: 'https://evil.example/callback' },
      { redirect_uri: 'http://127.0.0.1:99999/callback' },
      { client_id: 'org.example.unknown' },
    ];
    for (const overrides of cases) {
      const r = await browser.fetch(`/oauth/authorize?${authorizeQuery(challenge, overrides)}`);
      expect(r.status, JSON.stringify(overrides)).toBe(400);
      expect(r.headers.get('location')).toBeNull();
      expect(r.headers.get('content-type')).toContain('text/html');
    }
  });

  it('matches redirect URIs exactly, with any port on the loopback hosts only', () => {
    const client = { id: 'x', name: 'x', requiresApproval: true, redirectUris: ['http://127.0.0.1:{PORT}/callback', 'http://[::1]:{PORT}/callback', 'org.eduvpn.app:/api/callback'] };
    expect(redirectUriAllowed(client, 'http://127.0.0.1:1/callback')).toBe(true);
    expect(redirectUriAllowed(client, 'http://[::1]:65535/callback')).toBe(true);
    expect(redirectUriAllowed(client, 'org.eduvpn.app:/api/callback')).toBe(true);
    expect(redirectUriAllowed(client, 'org.eduvpn.app:/api/callback?x=1')).toBe(false);
    expect(redirectUriAllowed(client, 'http://127.0.0.1:080/callback')).toBe(false);
    expect(redirectUriAllowed(client, 'http://127.0.0.1:8080/callback/')).toBe(false);
    expect(redirectUriAllowed(client, 'http://127.0.0.1:8080@evil.example/callback')).toBe(false);
  });

  it('tells the app when the user denies', async () => {
    const { browser } = await signedIn('d1');
    const { challenge } = await pkcePair();
    const html = await (await browser.fetch(`/oauth/authorize?${authorizeQuery(challenge)}`)).text();
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
    const r = await browser.form('/oauth/authorize', { ...fields, decision: 'deny' });
    const p = new URL(r.headers.get('location') as string).searchParams;
    expect(p.get('error')).toBe('access_denied');
    expect(p.get('code')).toBeNull();
  });

  it('refuses a consent form without a CSRF token', async () => {
    const { browser } = await signedIn('d1');
    const { challenge } = await pkcePair();
    const r = await browser.form('/oauth/authorize', { ...Object.fromEntries(new URLSearchParams(authorizeQuery(challenge))), decision: 'approve' });
    expect(r.status).toBe(403);
  });
});

describe('token endpoint', () => {
  it('exchanges a code once; a second use fails and revokes what the first produced', async () => {
    const { browser } = await signedIn('d1');
    const { verifier, challenge } = await pkcePair();
    const callback = await approve(browser, authorizeQuery(challenge));
    expect(callback.searchParams.get('state')).toBe('st4te');
    expect(callback.searchParams.get('iss')).toBe('http://portal.test');
    const fields = { grant_type: 'authorization_code', client_id: CLIENT_ID, code: callback.searchParams.get('code') as string, redirect_uri: REDIRECT, code_verifier: verifier };
    const first = await tokenRequest(browser, fields);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const tokens = await first.json<{ access_token: string }>();
    expect((await apiCall(browser, tokens.access_token, 'GET', '/info')).status).toBe(200);

    const second = await tokenRequest(browser, fields);
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await apiCall(browser, tokens.access_token, 'GET', '/info')).status).toBe(401);
  });

  it.each([
    ['a wrong verifier', (v: string) => ({ code_verifier: `${v.slice(0, -1)}${v.endsWith('A') ? 'B' : 'A'}` })],
    ['a missing verifier', () => ({ code_verifier: '' })],
    ['another redirect URI', () => ({ redirect_uri: 'http://127.0.0.1:43211/callback' })],
    ['another client', () => ({ client_id: 'org.eduvpn.app.windows' })],
  ])('refuses the code with %s, and the code is then spent', async (_name, patch) => {
    const { browser } = await signedIn('d1');
    const { verifier, challenge } = await pkcePair();
    const code = (await approve(browser, authorizeQuery(challenge))).searchParams.get('code') as string;
    const good = { grant_type: 'authorization_code', client_id: CLIENT_ID, code, redirect_uri: REDIRECT, code_verifier: verifier };
    const r = await tokenRequest(browser, { ...good, ...patch(verifier) });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await tokenRequest(browser, good)).status).toBe(400);
  });

  it('refuses an expired code', async () => {
    const { browser } = await signedIn('d1');
    const { verifier, challenge } = await pkcePair();
    const code = (await approve(browser, authorizeQuery(challenge))).searchParams.get('code') as string;
    const db = await dbFor('d1');
    await db.kysely
      .updateTable('oauth_codes')
      .set({ expires_at: Date.now() - 1 })
      .where('used_at', 'is', null)
      .execute();
    const r = await tokenRequest(browser, { grant_type: 'authorization_code', client_id: CLIENT_ID, code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect(await r.json()).toMatchObject({ error: 'invalid_grant', error_description: 'the code has expired' });
  });

  it('answers malformed requests with the RFC 6749 §5.2 codes', async () => {
    const b = new Browser();
    const json = await b.fetch('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    expect(await (await tokenRequest(b, { grant_type: 'password', client_id: CLIENT_ID })).json()).toMatchObject({ error: 'unsupported_grant_type' });
    const unknown = await tokenRequest(b, { grant_type: 'refresh_token', client_id: 'nope', refresh_token: 'x' });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ error: 'invalid_client' });
    const twice = await b.fetch('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&client_id=${CLIENT_ID}&client_id=${CLIENT_ID}`,
    });
    expect(await twice.json()).toMatchObject({ error: 'invalid_request' });
    expect(await (await tokenRequest(b, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: 'not.a.jwt' })).json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('does not accept an access token as a refresh token, nor the reverse', async () => {
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    expect(await (await tokenRequest(browser, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: tokens.access_token })).json()).toMatchObject({ error: 'invalid_grant' });
    expect((await apiCall(browser, tokens.refresh_token, 'GET', '/info')).status).toBe(401);
  });
});

describe('bearer tokens on /api/v3', () => {
  it('refuses an expired access token, a forged one and a missing one, with WWW-Authenticate', async () => {
    const { browser, id } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const auth = JSON.parse(atob((tokens.access_token.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/'))).auth as string;
    const keys = await signingKeys(env.OAUTH_SIGNING_KEY);
    const expired = await signToken(keys, 'access', { auth }, id, Date.now() - 1000, Date.now() - 3_600_000);
    for (const token of [expired, `${tokens.access_token.slice(0, -2)}xx`, null]) {
      const r = await browser.fetch('/api/v3/info', { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="Edgeport", error="invalid_token"/);
      expect(await r.json()).toMatchObject({ error: 'invalid_token' });
    }
  });

  it("refuses a disabled user's token at once, and its refresh", async () => {
    const admin = await signedIn('d1', { admin: true });
    const { browser, id } = await signedIn('d1');
    const tokens = await appTokens(browser);
    expect((await apiCall(browser, tokens.access_token, 'GET', '/info')).status).toBe(200);
    expect((await admin.browser.api('POST', `/admin/api/users/${id}/disable`)).status).toBe(200);
    expect((await apiCall(browser, tokens.access_token, 'GET', '/info')).status).toBe(401);
    expect(await (await tokenRequest(browser, { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: tokens.refresh_token })).json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('answers unknown paths with 404 and wrong methods with 405 and Allow', async () => {
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const missing = await apiCall(browser, tokens.access_token, 'GET', '/x');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: '"/x" not found' });
    const wrong = await apiCall(browser, tokens.access_token, 'GET', '/connect');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('serves discovery with the three https-able endpoints built from the request origin', async () => {
    const r = await new Browser('d1', '198.51.100.1', 'https://vpn.example.org').fetch('/.well-known/vpn-user-portal');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect((await r.json<{ api: Record<string, unknown> }>()).api['http://eduvpn.org/api#3']).toEqual({
      api_endpoint: 'https://vpn.example.org/api/v3',
      authorization_endpoint: 'https://vpn.example.org/oauth/authorize',
      token_endpoint: 'https://vpn.example.org/oauth/token',
    });
  });
});

describe('admin-registered clients', () => {
  it('registers a client that can then authorize, and deleting it ends its authorizations', async () => {
    const { browser: admin } = await signedIn('d1', { admin: true });
    const clientId = `org.example.custom${Date.now().toString(36)}`;
    const redirect = `${clientId}:/callback`;
    const created = await admin.api('POST', '/admin/api/oauth-clients', { client_id: clientId, client_name: 'Custom VPN', redirect_uris: [redirect, 'https://app.example.org/cb'] });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ client_id: clientId, client_name: 'Custom VPN', redirect_uris: [redirect, 'https://app.example.org/cb'], requires_approval: true });

    const { browser } = await signedIn('d1');
    const { verifier, challenge } = await pkcePair();
    const consent = await (await browser.fetch(`/oauth/authorize?${authorizeQuery(challenge, { client_id: clientId, redirect_uri: redirect })}`)).text();
    expect(consent).toContain('Custom VPN');
    const callback = await approve(browser, authorizeQuery(challenge, { client_id: clientId, redirect_uri: redirect }));
    expect(callback.protocol).toBe(`${clientId}:`);
    const r = await tokenRequest(browser, {
      grant_type: 'authorization_code',
      client_id: clientId,
      code: callback.searchParams.get('code') as string,
      redirect_uri: redirect,
      code_verifier: verifier,
    });
    const tokens = await r.json<{ access_token: string }>();
    expect((await apiCall(browser, tokens.access_token, 'GET', '/info')).status).toBe(200);

    expect((await admin.api('DELETE', `/admin/api/oauth-clients/${clientId}`)).status).toBe(204);
    expect((await apiCall(browser, tokens.access_token, 'GET', '/info')).status).toBe(401);
    expect((await browser.fetch(`/oauth/authorize?${authorizeQuery(challenge, { client_id: clientId, redirect_uri: redirect })}`)).status).toBe(400);
  });

  it('refuses unsafe redirect URIs, built-in ids and unknown fields', async () => {
    const { browser: admin } = await signedIn('d1', { admin: true });
    const cases: [Record<string, unknown>, string][] = [
      [{ client_id: 'x.bad1', redirect_uris: ['http://app.example.org/cb'] }, 'redirect_uris.0'],
      [{ client_id: 'x.bad2', redirect_uris: ['https://app.example.org/cb#frag'] }, 'redirect_uris.0'],
      [{ client_id: 'x.bad3', redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris.0'],
      [{ client_id: CLIENT_ID, redirect_uris: ['https://app.example.org/cb'] }, 'client_id'],
      [{ client_id: 'x.bad4', redirect_uris: [] }, 'redirect_uris'],
      [{ client_id: 'x.bad5', redirect_uris: ['https://a.example/cb'], secret: 'x' }, ''],
    ];
    for (const [body, path] of cases) {
      const r = await admin.api('POST', '/admin/api/oauth-clients', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      const p = await r.json<{ errors: { path: string }[] }>();
      expect(p.errors.map((e) => e.path)).toContain(path);
    }
  });
});

describe('authorization lifetime', () => {
  it('never outlives the VPN CA', async () => {
    const { createCa } = await import('../src/vpn/ca.ts');
    const caEnd = Date.now() + 10 * 86_400_000;
    const ca = await createCa({ commonName: 'Short-lived CA', notAfter: new Date(caEnd) });
    const vars = { VPN_CA_CERT: ca.certPem, VPN_CA_KEY: ca.keyPkcs8Pem };
    const { browser } = await signedIn('d1', { vars });
    const tokens = await appTokens(browser);
    const db = await dbFor('d1');
    const claims = JSON.parse(atob((tokens.access_token.split('.')[1] as string).replace(/-/g, '+').replace(/_/g, '/')));
    const row = await db.kysely.selectFrom('oauth_authorizations').select('expires_at').where('id', '=', claims.auth).executeTakeFirstOrThrow();
    // x509 validity has whole-second precision.
    expect(Math.abs(row.expires_at - caEnd)).toBeLessThan(1000);
  });
});
