import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueServerCertificate, loadCa } from '../portal-worker/src/vpn/ca.ts';
import { HttpBrowser } from './support/browser.ts';
import { AckingNode, enrollThroughApi } from './support/test-node.ts';
import { SETUP_TOKEN, startPortal, type Portal } from './support/portal.ts';
import { openvpnServerConfig, requireVpnTools, run, Sandbox, sh, stop, waitFor, wgKeyPair } from './support/vpn-tools.ts';

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
  expect(
    (
      await admin.api('POST', '/admin/api/profiles', {
        ...profile,
        id: 'admins',
        display_name: 'Admins',
        acl_permissions: ['admins'],
        wireguard: { range_four: '10.44.0.0/24', range_six: 'fd44::/64' },
        openvpn: null,
      })
    ).status,
  ).toBe(201);
  expect((await admin.api('POST', '/admin/api/users', { id: 'alice', password: USER_PASSWORD, permissions: ['staff'] })).status).toBe(201);
  expect((await admin.api('POST', '/admin/api/users', { id: 'bob', password: USER_PASSWORD, permissions: ['staff'] })).status).toBe(201);

  // Discovery is how an app finds the endpoints (docs/eduvpn.md §1.1).
  const disco = await (await fetch(`${portal.origin}/.well-known/vpn-user-portal`)).json();
  const api = disco.api['http://eduvpn.org/api#3'];
  as = { issuer: portal.origin, authorization_endpoint: api.authorization_endpoint, token_endpoint: api.token_endpoint };
}, 60_000);

afterAll(async () => {
  await portal?.stop();
});

/** What an app does: open the browser at the authorize URL; the user signs in and approves. */
async function authorizeAsUser(browser: HttpBrowser, verifier: string, state: string, user = 'alice'): Promise<URL> {
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
    r = await browser.login(user, USER_PASSWORD, next);
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

async function tokensFor(browser: HttpBrowser, user = 'alice') {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const callback = await authorizeAsUser(browser, verifier, state, user);
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

// TEST-NET-1, given to the node's profile assignment: `wg setconf` resolves the Endpoint, so the
// config must name the node by an IP literal; the OpenVPN server then listens on it in its namespace.
const NODE_ADDRESS = '192.0.2.10';
const DAY_MS = 86_400_000;
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const WG_ACCEPT = 'application/x-wireguard-profile';
const OVPN_ACCEPT = 'application/x-openvpn-profile';

interface Connected {
  status: number;
  contentType: string | null;
  expires: string | null;
  body: string;
}

/** POST /connect as the app sends it, timed from request to the last byte of the config. */
async function connect(label: string, token: string, accept: string, publicKey?: string): Promise<Connected> {
  const form = new URLSearchParams({ profile_id: 'employees', prefer_tcp: 'no', ...(publicKey ? { public_key: publicKey } : {}) });
  const started = performance.now();
  const res = await api(token, 'POST', '/connect', form, { accept });
  const body = await res.text();
  console.log(`connect ${label}: ${(performance.now() - started).toFixed(1)} ms (HTTP ${res.status})`);
  return { status: res.status, contentType: res.headers.get('content-type'), expires: res.headers.get('expires'), body };
}

/** `Key = value` lines of a WireGuard file, by key (the first occurrence). */
const wgValue = (text: string, key: string) => text.match(new RegExp(`^${key} = (.*)$`, 'm'))?.[1];

describe('connect and disconnect, the configs checked with the real VPN tools', () => {
  const sandbox = new Sandbox();
  let dir = '';
  let nodeKey = '';
  // `app` is alice's authorization under test; `other`, bob's, shows from outside whether app's
  // WireGuard key is still held by a peer (alice's own second authorization would take the key
  // over, as upstream does: the worker tier's connect-same-key.test.ts and the same-key journey cover that).
  let app: oauth.TokenEndpointResponse;
  let other: oauth.TokenEndpointResponse;
  let authorizedFrom = 0;
  let authorizedUntil = 0;
  let firstKey = '';
  let firstAddress = '';
  let expires = '';
  let nodeLink: AckingNode | undefined;

  beforeAll(async () => {
    await requireVpnTools();
    expect(process.getuid?.(), 'network namespaces and tun devices need root').toBe(0);
    dir = await sandbox.tempDir('ep-oauthvpn-');
    nodeKey = (await wgKeyPair()).publicKey;
    const node = { id: 'node0', name: 'node0', host_name: 'node0.example.org', wg_public_key: nodeKey, profiles: [{ profile_id: 'employees', host_name: NODE_ADDRESS }] };
    expect((await admin.api('POST', '/admin/api/nodes', node)).status).toBe(201);
    // A node that acknowledges what the portal sends: /connect answers only after the node's ack.
    nodeLink = await AckingNode.start(portal.origin, 'node0', await enrollThroughApi(portal.origin, admin, 'node0'), nodeKey);
    // The authorization's expiry is fixed when the code is exchanged, somewhere in this window.
    authorizedFrom = Date.now();
    app = await tokensFor(new HttpBrowser(portal.origin));
    authorizedUntil = Date.now();
    other = await tokensFor(new HttpBrowser(portal.origin), 'bob');
  }, 60_000);

  afterAll(async () => {
    nodeLink?.close();
    await sandbox.cleanup();
  });

  it("connects for WireGuard; the config with the app's private key loads into a real interface", async () => {
    const keys = await wgKeyPair();
    firstKey = keys.publicKey;
    const r = await connect('wireguard', app.access_token, WG_ACCEPT, keys.publicKey);
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/x-wireguard-profile');
    // Expires is the authorization's end (90 days by default) as an RFC 7231 IMF-fixdate, whole seconds.
    expect(r.expires).toMatch(IMF_FIXDATE);
    expires = r.expires as string;
    const expiresAt = Date.parse(expires);
    expect(expiresAt).toBeGreaterThanOrEqual(authorizedFrom + 90 * DAY_MS - 1000);
    expect(expiresAt).toBeLessThanOrEqual(authorizedUntil + 90 * DAY_MS);
    expect(Date.parse(r.body.match(/^# Expires: (.+)$/m)?.[1] ?? '')).toBe(expiresAt);
    // The app inserts its own key: the portal never saw it and must not invent one.
    expect(r.body).not.toMatch(/PrivateKey/);
    expect(r.body).toMatch(/^\[Interface\]$/m);
    expect(wgValue(r.body, 'PublicKey')).toBe(nodeKey);
    expect(wgValue(r.body, 'Endpoint')).toBe(`${NODE_ADDRESS}:51820`);
    firstAddress = wgValue(r.body, 'Address') ?? '';
    expect(firstAddress).toMatch(/^10\.43\.43\.\d+\/24,fd43::[0-9a-f:]+\/64$/);

    // What eduvpn-common does with the file: PrivateKey right after [Interface].
    const withKey = r.body.replace(/^\[Interface\]$/m, `[Interface]\nPrivateKey = ${keys.privateKey}`);
    const file = join(dir, 'app0.conf'); // wg-quick takes the interface name from the file name
    await writeFile(file, withKey, { mode: 0o600 });
    const { stdout: stripped, stderr } = await run('wg-quick', ['strip', file], { encoding: 'utf8' });
    expect(stderr).toBe('');
    const lines = stripped.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines.map((l) => l.split(' = ')[0])).toEqual(['[Interface]', 'PrivateKey', '[Peer]', 'PublicKey', 'AllowedIPs', 'Endpoint']);

    // wg(8) loads it into a real userspace interface and reads back what it understood.
    const ns = await sandbox.netns('ep_oauthwg_');
    const wg = await sandbox.wireguardGo(ns, 'epa');
    await writeFile(join(dir, 'stripped.conf'), stripped, { mode: 0o600 });
    await run('ip', ['netns', 'exec', ns, 'wg', 'setconf', wg.name, join(dir, 'stripped.conf')]);
    const [iface = '', peer = '', ...more] = (await sh('ip', ['netns', 'exec', ns, 'wg', 'show', wg.name, 'dump'])).trim().split('\n');
    expect(more).toEqual([]);
    expect(iface.split('\t').slice(0, 2)).toEqual([keys.privateKey, keys.publicKey]);
    const [peerKey, psk, endpoint, allowed = ''] = peer.split('\t');
    expect([peerKey, psk, endpoint]).toEqual([nodeKey, '(none)', `${NODE_ADDRESS}:51820`]);
    expect(allowed.split(',').sort()).toEqual((wgValue(r.body, 'AllowedIPs') ?? '').split(',').sort());
    expect(allowed.split(',')).toEqual(expect.arrayContaining(['0.0.0.0/0', '::/0']));
    await run('ip', ['-n', ns, 'link', 'del', wg.name]);
    await stop(wg.proc.p);

    // The key is now taken: another user may not claim it.
    const taken = await connect('wireguard, same key, another user', other.access_token, WG_ACCEPT, keys.publicKey);
    expect(taken.status).toBe(409);
    expect(JSON.parse(taken.body)).toEqual({ error: 'this "public_key" is already in use' });
  });

  it('connects again for OpenVPN, which replaces the WireGuard config; a real client completes the tunnel', async () => {
    const r = await connect('openvpn', app.access_token, OVPN_ACCEPT);
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('application/x-openvpn-profile');
    expect(r.expires).toBe(expires); // same authorization, same end
    expect(r.body.split('\n').filter((l) => l.startsWith('remote '))).toEqual([`remote ${NODE_ADDRESS} 1194 udp`, `remote ${NODE_ADDRESS} 1194 tcp`]);

    // Replaced, seen from outside: the first WireGuard key and its address are free again.
    const reused = await connect('wireguard, freed key, another user', other.access_token, WG_ACCEPT, firstKey);
    expect(reused.status).toBe(200);
    expect(wgValue(reused.body, 'Address')).toBe(firstAddress);

    const inline = (tag: string) => r.body.match(new RegExp(`^<${tag}>\\n([^]*?)\\n</${tag}>$`, 'm'))?.[1] ?? '';
    const caPem = Buffer.from(portal.secrets.VPN_CA_CERT ?? '', 'base64').toString();
    const caKeyPem = Buffer.from(portal.secrets.VPN_CA_KEY ?? '', 'base64').toString();
    expect(inline('ca')).toBe(caPem.trim());
    await writeFile(join(dir, 'ca.pem'), `${inline('ca')}\n`);
    await writeFile(join(dir, 'client.pem'), `${inline('cert')}\n`);
    const verified = await run('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.pem'), join(dir, 'client.pem')], { encoding: 'utf8' });
    expect(verified.stdout.trim()).toBe(`${join(dir, 'client.pem')}: OK`);
    const cn = (await sh('openssl', ['x509', '-in', join(dir, 'client.pem'), '-noout', '-subject'])).match(/^subject=CN = ([A-Za-z0-9_-]{43}), OU = employees$/m)?.[1];
    expect(cn).toBeTruthy();
    // The certificate ends with the authorization, not later.
    const notAfter = (await sh('openssl', ['x509', '-in', join(dir, 'client.pem'), '-noout', '-enddate', '-dateopt', 'iso_8601'])).trim().replace(/^notAfter=(\S+) (\S+)$/, '$1T$2');
    expect(Date.parse(notAfter)).toBe(Date.parse(expires));

    // A node of this portal: its CSR signed by the portal's CA, the profile's tls-crypt key from the config.
    const ca = await loadCa(caPem, caKeyPem);
    await sh('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'server.key')]);
    await sh('openssl', ['req', '-new', '-key', join(dir, 'server.key'), '-subj', '/CN=node0', '-out', join(dir, 'server.csr')]);
    const server = await issueServerCertificate(ca, {
      csrPem: await readFile(join(dir, 'server.csr'), 'utf8'),
      commonName: 'node0.example.org',
      profileId: 'employees',
      notAfter: new Date(Date.now() + DAY_MS),
    });
    const serverConf = openvpnServerConfig({
      local: NODE_ADDRESS,
      port: 1194,
      server: '10.42.42.0 255.255.255.0',
      serverIpv6: 'fd42::/64',
      caPem,
      certPem: server.certPem,
      keyPem: await readFile(join(dir, 'server.key'), 'utf8'),
      tlsCrypt: inline('tls-crypt'),
    });
    await writeFile(join(dir, 'server.conf'), serverConf, { mode: 0o600 });
    // The client file is used exactly as downloaded: the namespace owns the node's address instead.
    await writeFile(join(dir, 'client.ovpn'), r.body, { mode: 0o600 });

    const ns = await sandbox.netns('ep_oauthovpn_');
    await run('ip', ['-n', ns, 'address', 'add', `${NODE_ADDRESS}/32`, 'dev', 'lo']);
    const openvpnServer = sandbox.spawnIn(ns, 'openvpn', ['--config', join(dir, 'server.conf')]);
    await waitFor(openvpnServer, /Initialization Sequence Completed/, 15_000);
    const client = sandbox.spawnIn(ns, 'openvpn', ['--config', join(dir, 'client.ovpn'), '--verb', '4']);
    await waitFor(client, /Initialization Sequence Completed/, 20_000);
    expect(client.log()).not.toMatch(/Options error|ERROR:/);
    expect(client.log()).toMatch(/VERIFY OK: depth=0, CN=node0\.example\.org, OU=employees/);
    // The first remote of the file as downloaded (UDP, as prefer_tcp=no asks), not a rewritten one.
    expect(client.log()).toContain(`UDPv4 link remote: [AF_INET]${NODE_ADDRESS}:1194`);
    expect(client.log()).toMatch(/10\.42\.42\.\d+\/24/);
    expect(openvpnServer.log()).toContain(`VERIFY OK: depth=0, CN=${cn}, OU=employees`);
    if (process.env.VPN_LOGS) console.log(client.log(), '\n----- server -----\n', openvpnServer.log());
    await stop(client.p);
    await stop(openvpnServer.p);
  });

  it('disconnects, after which the app can connect again', async () => {
    const gone = await api(app.access_token, 'POST', '/disconnect', new URLSearchParams());
    expect(gone.status).toBe(204);
    expect(await gone.text()).toBe('');
    const keys = await wgKeyPair();
    const again = await connect('wireguard after disconnect', app.access_token, WG_ACCEPT, keys.publicKey);
    expect(again.status).toBe(200);
    expect(again.contentType).toBe('application/x-wireguard-profile');
    expect(again.expires).toBe(expires);
    expect(again.body).not.toMatch(/PrivateKey/);
  });
});
