/**
 * Bad input for the client API (/api/v3) and the OAuth endpoints, built from a valid request by
 * mutations that each make it invalid on their own, so every case must be rejected. Drawn from
 * a seeded generator: the same seed gives the same cases, so a failure is replayed exactly.
 */

export type Audience = 'vpn-api' | 'oauth-token' | 'authorize';

export interface FuzzCase {
  name: string;
  audience: Audience;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** For authorize cases: the mutated redirect_uri is not registered, so the answer must not redirect. */
  unregisteredRedirect?: boolean;
}

/** Tokens and values the generators mutate. */
export interface FuzzContext {
  access: string;
  refresh: string;
  /** Validly formed but refused tokens: signed by another key, expired, of the wrong type, for an unknown authorization, alg none. */
  forged: Record<string, string>;
  clientId: string;
  redirectUri: string;
  challenge: string;
  profileId: string;
  wgKey: () => string;
}

type Rng = () => number;
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T;
const FORM = 'application/x-www-form-urlencoded';

/** Strings a parser has to survive: empty, long, control and non-ASCII characters, encodings. */
function nasty(rng: Rng): string {
  return pick(rng, [
    '',
    ' ',
    '\u0000',
    '%00',
    '%',
    '%ZZ',
    '%E0%A4',
    '\u202e',
    'ü',
    '😀',
    '\r\n',
    '<script>',
    "' OR 1=1 --",
    '../../etc/passwd',
    'a'.repeat(300),
    'A'.repeat(5000),
    '{}',
    '[]',
    'null',
    '-1',
    '1e309',
  ]);
}

function badWgKey(rng: Rng, good: string): string {
  return pick(rng, [
    '',
    'abc',
    good.slice(0, 43), // no padding
    `${good.slice(0, 42)}B=`, // 32 bytes need one of [AEIMQUYcgkosw048] before '='
    Buffer.alloc(31, 7).toString('base64'),
    Buffer.alloc(33, 7).toString('base64'),
    good.replace(/\+/g, '-').replace(/\//g, '_').replace(/[^-_]/, '-'), // base64url, not base64
    ` ${good}`,
    `${good}\n`,
    `${good}${good}`,
    nasty(rng),
  ]);
}

function badProfileId(rng: Rng, good: string): string {
  return pick(rng, ['', good.toUpperCase(), `${good}/..`, `${good};`, `-${good}`, 'a'.repeat(64), 'stäff', 'no-such-profile', `${good} `, nasty(rng)]);
}

const encode = (params: [string, string][]) => params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

/** /api/v3/connect: a valid app request, then 1–3 invalidating mutations. */
export function connectCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  let params: [string, string][] = [
    ['profile_id', ctx.profileId],
    ['public_key', ctx.wgKey()],
    ['prefer_tcp', 'no'],
  ];
  const headers: Record<string, string> = { authorization: `Bearer ${ctx.access}`, 'content-type': FORM, accept: 'application/x-wireguard-profile' };
  let method = 'POST';
  let path = '/api/v3/connect';
  let raw: string | null = null;
  const applied: string[] = [];
  const mutations: Record<string, () => void> = {
    'bad public_key': () => (params = params.map(([k, v]) => [k, k === 'public_key' ? badWgKey(rng, v) : v])),
    'bad profile_id': () => (params = params.map(([k, v]) => [k, k === 'profile_id' ? badProfileId(rng, v) : v])),
    'missing profile_id': () => (params = params.filter(([k]) => k !== 'profile_id')),
    'bad prefer_tcp': () => (params = params.map(([k, v]) => [k, k === 'prefer_tcp' ? pick(rng, ['maybe', 'YES', '1', 'true', '', nasty(rng)]) : v])),
    'repeated parameter': () => {
      const [k, v] = pick(rng, params);
      params.push([k, rng() < 0.5 ? v : nasty(rng)]);
    },
    'wrong content type': () => {
      headers['content-type'] = pick(rng, ['application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', '']);
      if (headers['content-type'] === 'application/json') raw = JSON.stringify(Object.fromEntries(params));
      if (!headers['content-type']) delete headers['content-type'];
    },
    'bad token': () =>
      (headers.authorization = pick(rng, [
        '',
        'Bearer',
        'Bearer ',
        `Basic ${ctx.access}`,
        `Bearer ${ctx.access}x`,
        `Bearer ${ctx.access.slice(0, -10)}`,
        `Bearer ${ctx.refresh}`,
        ...Object.values(ctx.forged).map((t) => `Bearer ${t}`),
        `Bearer ${'a'.repeat(5000)}`,
      ])),
    'no token': () => delete headers.authorization,
    'body too large': () => (raw = `${encode(params)}&pad=${'x'.repeat(pick(rng, [70_000, 300_000]))}`),
    'truncated body': () => (raw = encode(params).slice(0, Math.floor(rng() * 14)) + pick(rng, ['%', '%E', '%E0%A4', ''])),
    'wrong method': () => (method = pick(rng, ['GET', 'PUT', 'DELETE', 'PATCH'])),
    'wrong path': () => (path = pick(rng, ['/api/v3/connect/', '/api/v3/Connect', '/api/v3/connect%00', '/api/v3//connect', '/api/v4/connect', '/api/v3/connect.json'])),
  };
  const names = Object.keys(mutations);
  const count = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < count; i++) {
    const name = pick(rng, names);
    applied.push(name);
    (mutations[name] as () => void)();
  }
  // A body-carrying method is needed for body mutations to mean anything; GET/DELETE bodies are dropped.
  const body = method === 'GET' || method === 'HEAD' ? undefined : (raw ?? encode(params));
  return { name: `connect: ${applied.join(' + ')}`, audience: 'vpn-api', method, path, headers, ...(body !== undefined ? { body } : {}) };
}

/** /api/v3/info and /disconnect with refused tokens or the wrong method. */
export function infoCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const path = pick(rng, ['/api/v3/info', '/api/v3/disconnect']);
  const rightMethod = path.endsWith('info') ? 'GET' : 'POST';
  if (rng() < 0.3)
    return {
      name: `${path}: wrong method`,
      audience: 'vpn-api',
      method: pick(rng, ['PUT', 'DELETE', rightMethod === 'GET' ? 'POST' : 'GET']),
      path,
      headers: { authorization: `Bearer ${ctx.access}` },
    };
  const bad = pick(rng, ['', `Bearer ${ctx.refresh}`, `Bearer ${ctx.access}=`, `Token ${ctx.access}`, ...Object.values(ctx.forged).map((t) => `Bearer ${t}`)]);
  return { name: `${path}: refused token`, audience: 'vpn-api', method: rightMethod, path, headers: bad ? { authorization: bad } : {} };
}

/** /oauth/token: grants with something wrong in them (never the valid refresh token with its own client). */
export function tokenCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const kind = pick(rng, ['authorization_code', 'refresh_token', 'grant type', 'content type', 'repeated', 'too large']);
  const headers: Record<string, string> = { 'content-type': FORM };
  let params: [string, string][];
  switch (kind) {
    case 'authorization_code':
      params = [
        ['grant_type', 'authorization_code'],
        ['client_id', pick(rng, [ctx.clientId, 'org.letsconnect-vpn.app.linux', 'no.such.client', '', nasty(rng)])],
        ['code', pick(rng, ['', 'x', 'a'.repeat(600), Buffer.alloc(24, Math.floor(rng() * 255)).toString('base64url'), nasty(rng)])],
        ['redirect_uri', pick(rng, [ctx.redirectUri, 'https://evil.example/callback', `${ctx.redirectUri}/x`, ''])],
        ['code_verifier', pick(rng, ['', 'short', 'v'.repeat(42), 'v'.repeat(129), `${'v'.repeat(42)} `, 'v'.repeat(43)])],
      ];
      break;
    case 'refresh_token':
      params = [
        ['grant_type', 'refresh_token'],
        // The valid refresh token only with another client: with its own it would rotate (a valid request).
        ...pick<[string, string][]>(rng, [
          [
            ['client_id', 'org.letsconnect-vpn.app.linux'],
            ['refresh_token', ctx.refresh],
          ],
          [
            ['client_id', ctx.clientId],
            ['refresh_token', ctx.access],
          ],
          [
            ['client_id', ctx.clientId],
            ['refresh_token', `${ctx.refresh}x`],
          ],
          // Not `refreshShaped`: signed with the real key for the real authorization, it is a valid refresh token.
          [
            ['client_id', ctx.clientId],
            [
              'refresh_token',
              pick(
                rng,
                Object.entries(ctx.forged)
                  .filter(([k]) => k !== 'refreshShaped')
                  .map(([, t]) => t),
              ),
            ],
          ],
          [
            ['client_id', ctx.clientId],
            ['refresh_token', nasty(rng)],
          ],
          [['refresh_token', ctx.refresh]],
          [['client_id', ctx.clientId]],
        ]),
      ];
      break;
    case 'grant type':
      params = [
        ['grant_type', pick(rng, ['', 'password', 'client_credentials', 'implicit', 'AUTHORIZATION_CODE', 'urn:ietf:params:oauth:grant-type:device_code', nasty(rng)])],
        ['client_id', ctx.clientId],
      ];
      break;
    case 'content type':
      headers['content-type'] = pick(rng, ['application/json', 'text/plain', 'multipart/form-data; boundary=x']);
      params = [
        ['grant_type', 'refresh_token'],
        ['client_id', ctx.clientId],
        ['refresh_token', ctx.refresh],
      ];
      break;
    case 'repeated':
      params = [
        ['grant_type', 'refresh_token'],
        ['client_id', ctx.clientId],
        ['refresh_token', ctx.refresh],
        pick<[string, string]>(rng, [
          ['grant_type', 'refresh_token'],
          ['client_id', ctx.clientId],
          ['refresh_token', ctx.refresh],
        ]),
      ];
      break;
    default:
      params = [
        ['grant_type', 'refresh_token'],
        ['client_id', ctx.clientId],
        ['refresh_token', ctx.refresh],
        ['pad', 'x'.repeat(70_000)],
      ];
  }
  const body = kind === 'content type' && headers['content-type'] === 'application/json' ? JSON.stringify(Object.fromEntries(params)) : encode(params);
  return { name: `token: ${kind}`, audience: 'oauth-token', method: 'POST', path: '/oauth/token', headers, body };
}

/** GET /oauth/authorize without a session: PKCE and the other parameters wrong one at a time. */
export function authorizeCase(rng: Rng, ctx: FuzzContext): FuzzCase {
  const q: [string, string][] = [
    ['client_id', ctx.clientId],
    ['redirect_uri', ctx.redirectUri],
    ['response_type', 'code'],
    ['scope', 'config'],
    ['state', 'st'],
    ['code_challenge_method', 'S256'],
    ['code_challenge', ctx.challenge],
  ];
  const set = (k: string, v: string | null) => {
    const i = q.findIndex(([n]) => n === k);
    if (v === null) q.splice(i, 1);
    else q[i] = [k, v];
  };
  const kind = pick(rng, ['pkce method', 'pkce challenge', 'pkce missing', 'client', 'redirect', 'response_type', 'scope', 'state', 'repeated']);
  let unregisteredRedirect = false;
  switch (kind) {
    case 'pkce method':
      set('code_challenge_method', pick(rng, ['plain', 's256', 'S512', '', nasty(rng)]));
      break;
    case 'pkce challenge':
      set('code_challenge', pick(rng, ['', ctx.challenge.slice(1), `${ctx.challenge}A`, `${ctx.challenge.slice(1)}=`, `${ctx.challenge.slice(1)}+`, nasty(rng)]));
      break;
    case 'pkce missing':
      set(pick(rng, ['code_challenge', 'code_challenge_method']), null);
      break;
    case 'client':
      set('client_id', pick(rng, ['', 'no.such.client', nasty(rng)]));
      break;
    case 'redirect':
      unregisteredRedirect = true;
      set(
        'redirect_uri',
        pick(rng, [
          'https://evil.example/callback',
          'http://127.0.0.1:52111/evil',
          'http://localhost:52111/callback',
          'http://127.0.0.1:0/callback',
          'http://127.0.0.1:99999/callback',
          'org.eduvpn.app:/api/callback',
          '',
        ]),
      );
      break;
    case 'response_type':
      set('response_type', pick(rng, ['token', 'id_token', 'code token', '']));
      break;
    case 'scope':
      set('scope', pick(rng, ['admin', 'config admin', '', nasty(rng)]));
      break;
    case 'state':
      set('state', null);
      break;
    default:
      q.push(pick(rng, q.slice()));
  }
  return { name: `authorize: ${kind}`, audience: 'authorize', method: 'GET', path: `/oauth/authorize?${encode(q)}`, headers: {}, unregisteredRedirect };
}
