/** A cookie-keeping HTTP client over real sockets: what a browser does, minus rendering. */
export class HttpBrowser {
  readonly cookies = new Map<string, string>();
  constructor(readonly origin: string) {}

  async fetch(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.origin + pathOrUrl;
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
    return res;
  }

  async csrf(path: string): Promise<string> {
    const html = await (await this.fetch(path)).text();
    const m = html.match(/name="_csrf" value="([^"]+)"/);
    if (!m?.[1]) throw new Error(`no CSRF field on ${path}`);
    return m[1];
  }

  form(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, { method: 'POST', body: new URLSearchParams(fields) });
  }

  async login(user: string, password: string, next = '/'): Promise<Response> {
    const token = await this.csrf(`/login?next=${encodeURIComponent(next)}`);
    return this.form('/login', { _csrf: token, user, password, next });
  }

  async api(method: string, path: string, body?: unknown): Promise<Response> {
    const token = await this.csrf('/');
    return this.fetch(path, {
      method,
      headers: { 'content-type': 'application/json', 'x-csrf-token': token, accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}
