import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * An OpenID Provider that misbehaves on purpose, for what a certified provider never does: a
 * real HTTP server with real RS256 signatures. Discovery, JWKS, an authorize endpoint that sends
 * the browser straight back with a code (no login page), and a token endpoint that checks what
 * a real one checks (client_secret_basic, code, redirect URI, PKCE S256) before answering as the
 * current `mode` says. In mode `good` it is a correct provider: the control that makes every
 * other mode differ from a working login by exactly one thing.
 */

export type RogueMode =
  | 'good'
  | 'wrong-nonce'
  | 'no-nonce'
  | 'expired'
  | 'foreign-key' // signed by a key not in the JWKS, under a kid the JWKS does not have
  | 'forged-signature' // signed by a key not in the JWKS, claiming the JWKS key's kid
  | 'alg-none' // unsigned
  | 'wrong-aud'
  | 'wrong-iss'
  | 'no-sub'
  | 'no-user-claim' // a valid token without the `uid` claim a provider may be configured to use
  | 'empty-user-claim'
  | 'token-refused' // the token endpoint answers 400 invalid_grant
  | 'token-500'
  | 'token-reset' // the token endpoint drops the connection
  | 'access-denied'; // authorize redirects back with error=access_denied

export interface RogueUser {
  sub: string;
  /** A second identifier claim (`uid`), for a provider configured with `user_id_claim: "uid"`; default: sub. */
  uid?: string;
  name: string;
  groups: string[];
}

interface Pending {
  clientId: string;
  redirectUri: string;
  nonce: string | null;
  challenge: string | null;
  method: string | null;
  used: boolean;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

export class RogueIdp {
  mode: RogueMode = 'good';
  /** Who "signs in" at the next authorize: there is no login page, the test decides. */
  user: RogueUser = { sub: 'nobody', name: 'Nobody', groups: [] };
  /** Every token request, with what the provider found wrong with it (null = acceptable). */
  readonly tokenRequests: { code: string; problem: string | null }[] = [];
  /** The authorize requests' parameters, to check what the portal sends. */
  readonly authorizeRequests: URLSearchParams[] = [];
  private readonly codes = new Map<string, Pending>();
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  private key!: { privateKey: CryptoKey; jwk: JWK };
  private foreign!: CryptoKey;
  private port = 0;

  constructor(private readonly clients: Record<string, string>) {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<string> {
    const good = await generateKeyPair('RS256', { extractable: true });
    this.key = { privateKey: good.privateKey, jwk: { ...(await exportJWK(good.publicKey)), kid: 'rogue-1', alg: 'RS256', use: 'sig' } };
    this.foreign = (await generateKeyPair('RS256')).privateKey;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.issuer;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    switch (url.pathname) {
      case '/.well-known/openid-configuration':
        return json(res, 200, {
          issuer: this.issuer,
          authorization_endpoint: `${this.issuer}/authorize`,
          token_endpoint: `${this.issuer}/token`,
          jwks_uri: `${this.issuer}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['client_secret_basic'],
          code_challenge_methods_supported: ['S256'],
          scopes_supported: ['openid', 'profile', 'groups'],
        });
      case '/jwks':
        return json(res, 200, { keys: [this.key.jwk] });
      case '/authorize':
        return this.authorize(url, res);
      case '/token':
        return this.token(req, res);
      default:
        res.writeHead(404).end();
    }
  }

  private authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    this.authorizeRequests.push(q);
    const redirect = new URL(q.get('redirect_uri') ?? '');
    redirect.searchParams.set('state', q.get('state') ?? '');
    if (this.mode === 'access-denied') {
      redirect.searchParams.set('error', 'access_denied');
      redirect.searchParams.set('error_description', 'The user said no');
    } else {
      const code = randomBytes(16).toString('base64url');
      this.codes.set(code, {
        clientId: q.get('client_id') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
        nonce: q.get('nonce'),
        challenge: q.get('code_challenge'),
        method: q.get('code_challenge_method'),
        used: false,
      });
      redirect.searchParams.set('code', code);
    }
    res.writeHead(302, { location: redirect.href }).end();
  }

  /** What a real token endpoint checks first; a failure here means the portal sent a bad request. */
  private check(auth: string | undefined, form: URLSearchParams): { problem: string | null; pending?: Pending; clientId?: string } {
    const basic = /^Basic (.+)$/.exec(auth ?? '')?.[1];
    if (!basic) return { problem: 'no client_secret_basic' };
    const [id = '', secret = ''] = Buffer.from(basic, 'base64')
      .toString()
      .split(':')
      .map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
    if (this.clients[id] === undefined || this.clients[id] !== secret) return { problem: 'bad client credentials' };
    if (form.get('grant_type') !== 'authorization_code') return { problem: 'bad grant_type' };
    const pending = this.codes.get(form.get('code') ?? '');
    if (!pending || pending.used) return { problem: 'unknown or used code' };
    pending.used = true;
    if (pending.clientId !== id || pending.redirectUri !== form.get('redirect_uri')) return { problem: 'client or redirect_uri mismatch' };
    const verifier = form.get('code_verifier') ?? '';
    if (pending.method !== 'S256' || createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) return { problem: 'PKCE failed' };
    return { problem: null, pending, clientId: id };
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    const { problem, pending, clientId } = this.check(req.headers.authorization, form);
    this.tokenRequests.push({ code: form.get('code') ?? '', problem });
    if (problem || !pending || !clientId) return json(res, 400, { error: 'invalid_grant', error_description: problem });
    if (this.mode === 'token-refused') return json(res, 400, { error: 'invalid_grant', error_description: 'the code was refused' });
    if (this.mode === 'token-500') return json(res, 500, { error: 'server_error' });
    if (this.mode === 'token-reset') {
      req.socket.destroy();
      return;
    }
    json(res, 200, { access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 300, id_token: await this.idToken(clientId, pending.nonce) });
  }

  private async idToken(clientId: string, nonce: string | null): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const m = this.mode;
    const claims: Record<string, unknown> = { name: this.user.name, groups: this.user.groups, uid: this.user.uid ?? this.user.sub };
    if (m !== 'no-sub') claims.sub = this.user.sub;
    if (m === 'no-user-claim') delete claims.uid;
    if (m === 'empty-user-claim') claims.uid = '';
    if (m === 'wrong-nonce') claims.nonce = 'not-the-nonce-the-portal-sent';
    else if (m !== 'no-nonce' && nonce) claims.nonce = nonce;
    const iss = m === 'wrong-iss' ? 'http://127.0.0.1:1' : this.issuer;
    const aud = m === 'wrong-aud' ? 'someone-else' : clientId;
    // Expired well beyond any clock tolerance a verifier allows.
    const [iat, exp] = m === 'expired' ? [now - 7200, now - 3600] : [now, now + 300];
    if (m === 'alg-none') {
      const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${part({ alg: 'none', typ: 'JWT' })}.${part({ ...claims, iss, aud, iat, exp })}.`;
    }
    const kid = m === 'foreign-key' ? 'rogue-foreign' : 'rogue-1';
    const key = m === 'foreign-key' || m === 'forged-signature' ? this.foreign : this.key.privateKey;
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).setIssuer(iss).setAudience(aud).setIssuedAt(iat).setExpirationTime(exp).sign(key);
  }
}
