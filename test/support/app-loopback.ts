import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const CLIENT_ID = 'org.eduvpn.app.linux';

/**
 * An eduVPN app's side of the OAuth flow, as the apps do it: a real loopback listener for the
 * redirect URI (the browser is sent there with the code), PKCE S256, then the token exchange.
 */
export class AppLoopback {
  private server: Server | null = null;
  private received: URL | null = null;
  private readonly verifier = randomBytes(32).toString('base64url');
  private readonly state = randomBytes(8).toString('hex');
  redirect = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/callback') this.received = url;
      res.end('You may close this window.');
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.redirect = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/callback`;
    return this;
  }

  /** Where the app opens the browser. */
  authorizeUrl(origin: string): string {
    const challenge = createHash('sha256').update(this.verifier).digest('base64url');
    const q = new URLSearchParams({
      client_id: CLIENT_ID,
      redirect_uri: this.redirect,
      response_type: 'code',
      scope: 'config',
      state: this.state,
      code_challenge_method: 'S256',
      code_challenge: challenge,
    });
    return `${origin}/oauth/authorize?${q}`;
  }

  /** The code the listener received, exchanged at the portal's token endpoint. */
  async token(origin: string): Promise<string> {
    const got = this.received;
    if (!got || got.searchParams.get('state') !== this.state) throw new Error(`the listener got no code for our state: ${got?.href}`);
    const r = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CLIENT_ID, code: got.searchParams.get('code') ?? '', redirect_uri: this.redirect, code_verifier: this.verifier }),
    });
    if (r.status !== 200) throw new Error(`token exchange: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { access_token: string }).access_token;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The profile ids /api/v3/info lists for this access token, sorted. */
export async function infoProfiles(origin: string, token: string): Promise<string[]> {
  const r = await fetch(`${origin}/api/v3/info`, { headers: { authorization: `Bearer ${token}` } });
  if (r.status !== 200) throw new Error(`/api/v3/info: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as { info: { profile_list: { profile_id: string }[] } };
  return body.info.profile_list.map((p) => p.profile_id).sort();
}
