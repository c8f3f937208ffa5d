import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

/**
 * A real, certified OpenID Provider (oidc-provider) on loopback, as an institution's IdP would
 * be: an account store with passwords, names and groups the test may change, a plain login page
 * (no external fonts or scripts, so a watched browser sees no foreign errors), consent given
 * without asking (the portal is a first-party client), RS256 keys the test can rotate, and a
 * restart on the same port that keeps its storage, as a real deployment's key rollover does.
 */

export interface OpAccount {
  password: string;
  name: string;
  groups: string[];
}

export interface OpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

/** One store per provider, shared by every restart: sessions, grants and codes survive them. */
type Stored = { payload: Record<string, unknown>; expiresAt: number };

class MapAdapter {
  constructor(
    private readonly model: string,
    private readonly store: Map<string, Stored>,
  ) {}

  private key(id: string) {
    return `${this.model}:${id}`;
  }

  private live(key: string): Record<string, unknown> | undefined {
    const hit = this.store.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= Date.now()) {
      this.store.delete(key);
      return undefined;
    }
    return hit.payload;
  }

  async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.MAX_SAFE_INTEGER;
    this.store.set(this.key(id), { payload, expiresAt });
    if (typeof payload.uid === 'string' && this.model === 'Session') this.store.set(`SessionUid:${payload.uid}`, { payload: { id }, expiresAt });
    if (typeof payload.grantId === 'string') {
      const grantKey = `GrantMembers:${payload.grantId}`;
      const members = (this.store.get(grantKey)?.payload.keys as string[] | undefined) ?? [];
      this.store.set(grantKey, { payload: { keys: [...members, this.key(id)] }, expiresAt: Number.MAX_SAFE_INTEGER });
    }
  }

  async find(id: string) {
    return this.live(this.key(id));
  }

  async findByUid(uid: string) {
    const ref = this.live(`SessionUid:${uid}`);
    return ref ? this.find(ref.id as string) : undefined;
  }

  async findByUserCode() {
    return undefined;
  }

  async consume(id: string) {
    const hit = this.live(this.key(id));
    if (hit) hit.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string) {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string) {
    const members = (this.store.get(`GrantMembers:${grantId}`)?.payload.keys as string[] | undefined) ?? [];
    for (const key of members) this.store.delete(key);
    this.store.delete(`GrantMembers:${grantId}`);
  }
}

export async function newSigningKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

const html = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export class OidcOp {
  /** The IdP's user directory; a test changes groups here and the next ID token carries them. */
  readonly accounts = new Map<string, OpAccount>();
  /** When the JWKS was served (ms): the rotation test waits out the portal's refetch limit from the last one. */
  readonly jwksServedAt: number[] = [];
  /** The status of every token-endpoint answer, in order. */
  readonly tokenAnswers: number[] = [];
  private readonly store = new Map<string, Stored>();
  private readonly server: Server;
  private provider: Provider | null = null;
  private callback: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  private client: OpClient | null = null;
  private port = 0;

  constructor(private readonly title = 'University') {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Listens first (the portal needs the issuer URL to start), answering 503 until `start` gives
   * it the client, whose redirect URI is known only once the portal is up.
   */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.issuer;
  }

  start(client: OpClient, key: JWK): void {
    this.client = client;
    this.provider = this.build(key);
  }

  /** A real restart: the port closes (open connections dropped), then the new key is served on it. */
  async restart(key: JWK): Promise<void> {
    await this.close();
    this.provider = this.build(key);
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    if (this.server.listening) await this.close();
  }

  private async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private build(key: JWK): Provider {
    if (!this.client) throw new Error('start() first');
    const accounts = this.accounts;
    const store = this.store;
    const provider = new Provider(this.issuer, {
      adapter: (model: string) => new MapAdapter(model, store),
      clients: [{ ...this.client, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
      jwks: { keys: [key] },
      claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
      // The portal reads claims from the ID token (userinfo off), as many IdPs are set up to send them.
      conformIdTokenClaims: false,
      findAccount: async (_ctx: unknown, id: string) => {
        const account = accounts.get(id);
        if (!account) return undefined;
        return { accountId: id, claims: async () => ({ sub: id, name: account.name, groups: [...account.groups] }) };
      },
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
      features: { devInteractions: { enabled: false } },
      // Plain http on loopback: SameSite=None cookies need Secure, so every cookie is Lax here.
      cookies: { keys: ['oidc-op cookie key for the tests 0'], long: { signed: true, sameSite: 'lax' }, short: { signed: true, sameSite: 'lax' } },
      clientBasedCORS: () => false,
      ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 3600, Grant: 3600 },
    });
    this.callback = provider.callback();
    return provider;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.provider;
    if (!provider) {
      res.writeHead(503).end('not started');
      return;
    }
    const url = new URL(req.url ?? '/', this.issuer);
    try {
      if (url.pathname.startsWith('/interaction/')) {
        await this.interaction(provider, url, req, res);
        return;
      }
      if (url.pathname === '/jwks') this.jwksServedAt.push(Date.now());
      if (url.pathname === '/token') res.on('finish', () => this.tokenAnswers.push(res.statusCode));
      this.callback?.(req, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`oidc-op: ${(err as Error).message}`);
    }
  }

  /** The IdP's own pages: a login form checked against `accounts`, Cancel (access_denied), consent given at once. */
  private async interaction(provider: Provider, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [, , uid, action] = url.pathname.split('/');
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction uid mismatch');
    if (req.method === 'POST' && action === 'abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      let message = '';
      if (req.method === 'POST') {
        const form = await readForm(req);
        const login = form.get('login') ?? '';
        if (this.accounts.get(login)?.password === form.get('password')) {
          await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
          return;
        }
        message = '<p id="op-error">Wrong user name or password.</p>';
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        html(
          `${this.title} sign-in`,
          `${message}<form method="post" action="/interaction/${uid}"><label>Login <input id="op-login" name="login" autocomplete="username"></label> ` +
            `<label>Secret <input id="op-password" type="password" name="password"></label> <button id="op-submit" type="submit">Log in</button></form>` +
            `<form method="post" action="/interaction/${uid}/abort"><button id="op-cancel" type="submit">Cancel</button></form>`,
        ),
      );
      return;
    }
    // consent: a first-party client gets what it asked for without a screen.
    const session = details.session;
    if (!session) throw new Error('consent without a session');
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) as NonNullable<Awaited<ReturnType<typeof provider.Grant.find>>>)
      : new provider.Grant({ accountId: session.accountId, clientId: details.params.client_id as string });
    const { missingOIDCScope, missingOIDCClaims } = details.prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }
}
