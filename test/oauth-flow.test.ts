import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBrowser } from './support/browser.ts';
import { SETUP_TOKEN, startPortal, type Portal } from './support/portal.ts';

// An independent, maintained OAuth client (oauth4webapi) against the real portal over real HTTP.
// The portal runs on plain http on loopback, which the library refuses unless told otherwise.
const insecure = { [oauth.allowInsecureRequests]: true } as const;
const CLIENT: oauth.Client = { client_id: 'org.eduvpn.app.linux' };
const REDIRECT = 'http://127.0.0.1:51234/callback';
const ADMIN_PASSWORD = 'admin password for the black box';
const USER_PASSWORD = 'user password for the black box';

let portal: Portal;
let as: oauth.AuthorizationServer;
let admin: HttpBrowser;

beforeAll(async () => {
  portal = await startPortal();
  const setup = await fetch(`${portal.origin}/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: ADMIN_PASSWORD }),
  });
  expect(setup.status).toBe(201);
  admin = new HttpBrowser(portal.origin);
  expect((await admin.login('admin', ADMIN_PASSWORD)).status).toBe(303);
  const profile = {
    id: 'employees',
    display_name: 'Employees',
    host_name: 'vpn.example.org',
    dns_servers: ['9.9.9.9'],
    wireguard: { range_four: '10.43.43.0/24', range_six: 'fd43::/64' },
    openvpn: { range_four: '10.42.42.0/24', range_six: 'fd42::/64', udp_ports: [1194], tcp_ports: [1194] },
  };
  expect((await admin.api('POST', '/admin/api/profiles', profile)).status).toBe(201);
  expect((await admin.api('POST', '/admin/api/profiles', { ...profile, id: 'admins', display_name: 'Admins', acl_permissions: ['admins'], wireguard: { range_four: '10.44.0.0/24', range_six: 'fd44::/64' }, openvpn: null })).status).toBe(201);
  expect((await admin.api('POST', '/admin/api/users', { id: 'alice', password: USER_PASSWORD, permissions: ['staff'] })).status).toBe(201);

  // Discovery is how an app finds the endpoints (eduvpn.md §1.1).
  const disco = await (await fetch(`${portal.origin}/.well-known/vpn-user-portal`)).json();
  const api = disco.api['http://eduvpn.org/api#3'];
  as = { issuer: portal.origin, authorization_endpoint: api.authorization_endpoint, token_endpoint: api.token_endpoint };
}, 60_000);

afterAll(async () => {
  await portal?.stop();
});

/** What an app does: open the browser at the authorize URL; the user signs in and approves. */
async function authorizeAsUser(browser: HttpBrowser, verifier: string, state: string): Promise<URL> {
  const url = new URL(as.authorization_endpoint as string);
  url.search = new URLSearchParams({
    client_id: CLIENT.client_id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'config',
    state,
    code_challenge_method: 'S256',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
  }).toString();
  let r = await browser.fetch(url.href);
  if (r.status === 302 && r.headers.get('location')?.startsWith('/login')) {
    const next = new URL(r.headers.get('location') as string, portal.origin).searchParams.get('next') as string;
    r = await browser.login('alice', USER_PASSWORD, next);
    expect(r.status).toBe(303);
    r = await browser.fetch(r.headers.get('location') as string);
  }
  expect(r.status).toBe(200);
  const html = await r.text();
  expect(html).toContain('eduVPN for Linux');
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]?.replace(/&amp;/g, '&')]));
  const approved = await browser.form('/oauth/authorize', { ...(fields as Record<string, string>), decision: 'approve' });
  expect(approved.status).toBe(302);
  return new URL(approved.headers.get('location') as string);
}

async function tokensFor(browser: HttpBrowser) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const callback = await authorizeAsUser(browser, verifier, state);
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  const params = oauth.validateAuthResponse(as, CLIENT, callback, state);
  const response = await oauth.authorizationCodeGrantRequest(as, CLIENT, oauth.None(), params, REDIRECT, verifier, insecure);
  return oauth.processAuthorizationCodeResponse(as, CLIENT, response);
}

/** The status an app sees; oauth4webapi turns a 401 challenge into an error carrying the response. */
async function statusOf(call: Promise<Response>): Promise<{ status: number; challenge?: string }> {
  try {
    return { status: (await call).status };
  } catch (err) {
    if (err instanceof oauth.WWWAuthenticateChallengeError) {
      return { status: err.response.status, challenge: err.response.headers.get('www-authenticate') ?? '' };
    }
    throw err;
  }
}

function api(token: string, method: string, path: string, body?: URLSearchParams, headers: Record<string, string> = {}) {
  return oauth.protectedResourceRequest(token, method, new URL(`${portal.origin}/api/v3${path}`), new Headers(headers), body, insecure);
}

describe('the eduVPN app flow with an independent OAuth client', () => {
  it('authorizes with PKCE, reads /info, rotates refresh tokens and detects a replay', async () => {
    const browser = new HttpBrowser(portal.origin);
    const tokens = await tokensFor(browser);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toBeTruthy();

    const info = await api(tokens.access_token, 'GET', '/info');
    expect(info.status).toBe(200);
    const body = await info.json();
    // alice lacks the "admins" permission, so only the open profile is listed.
    expect(body.info.profile_list).toEqual([
      {
        profile_id: 'employees',
        display_name: 'Employees',
        vpn_proto_list: ['openvpn', 'wireguard'],
        vpn_proto_transport_list: ['wireguard+udp', 'openvpn+udp', 'openvpn+tcp'],
        default_gateway: true,
        dns_search_domain_list: [],
      },
    ]);

    const refreshed = await oauth.processRefreshTokenResponse(as, CLIENT, await oauth.refreshTokenGrantRequest(as, CLIENT, oauth.None(), tokens.refresh_token as string, insecure));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await api(refreshed.access_token, 'GET', '/info')).status).toBe(200);

    // Replaying the first refresh token is theft: the whole authorization goes.
    const replay = oauth.processRefreshTokenResponse(as, CLIENT, await oauth.refreshTokenGrantRequest(as, CLIENT, oauth.None(), tokens.refresh_token as string, insecure));
    await expect(replay).rejects.toMatchObject({ error: 'invalid_grant' });
    const afterReplay = await statusOf(api(refreshed.access_token, 'GET', '/info'));
    expect(afterReplay.status).toBe(401);
    expect(afterReplay.challenge).toMatch(/^Bearer .*error="invalid_token"/);
    const stillValid = oauth.processRefreshTokenResponse(as, CLIENT, await oauth.refreshTokenGrantRequest(as, CLIENT, oauth.None(), refreshed.refresh_token as string, insecure));
    await expect(stillValid).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('lets the user revoke the app from the account page, which ends its tokens', async () => {
    const browser = new HttpBrowser(portal.origin);
    const tokens = await tokensFor(browser);
    expect((await api(tokens.access_token, 'GET', '/info')).status).toBe(200);
    const page = await (await browser.fetch('/account')).text();
    expect(page).toContain('eduVPN for Linux');
    const action = page.match(/action="(\/account\/authorizations\/[^"]+\/revoke)"/)?.[1] as string;
    const token = page.match(/name="_csrf" value="([^"]+)"/)?.[1] as string;
    expect((await browser.form(action, { _csrf: token })).status).toBe(303);
    expect((await statusOf(api(tokens.access_token, 'GET', '/info'))).status).toBe(401);
    const refresh = oauth.processRefreshTokenResponse(as, CLIENT, await oauth.refreshTokenGrantRequest(as, CLIENT, oauth.None(), tokens.refresh_token as string, insecure));
    await expect(refresh).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
