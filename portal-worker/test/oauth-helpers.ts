import { base64url } from '../src/core/crypto.ts';
import type { Browser } from './helpers.ts';

export const CLIENT_ID = 'org.eduvpn.app.linux';
export const REDIRECT = 'http://127.0.0.1:43210/callback';

export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

export function authorizeQuery(challenge: string, overrides: Record<string, string | null> = {}): string {
  const q = new URLSearchParams();
  const base: Record<string, string | null> = {
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'config',
    state: 'st4te',
    code_challenge_method: 'S256',
    code_challenge: challenge,
    ...overrides,
  };
  for (const [k, v] of Object.entries(base)) if (v !== null) q.set(k, v);
  return q.toString();
}

/** A signed-in browser approves the app; returns the redirect the app receives. */
export async function approve(browser: Browser, query: string): Promise<URL> {
  const page = await browser.fetch(`/oauth/authorize?${query}`);
  if (page.status !== 200) throw new Error(`authorize page: ${page.status} ${page.headers.get('location')}`);
  const html = await page.text();
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1] as string, (m[2] as string).replace(/&amp;/g, '&')]));
  const r = await browser.form('/oauth/authorize', { ...fields, decision: 'approve' });
  if (r.status !== 302) throw new Error(`approve: ${r.status}`);
  return new URL(r.headers.get('location') as string);
}

export function tokenRequest(browser: Browser, fields: Record<string, string>): Promise<Response> {
  return browser.fetch('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

/** The whole app flow for a signed-in browser: approve, then exchange the code. */
export async function appTokens(browser: Browser): Promise<Tokens> {
  const { verifier, challenge } = await pkcePair();
  const callback = await approve(browser, authorizeQuery(challenge));
  const r = await tokenRequest(browser, { grant_type: 'authorization_code', client_id: CLIENT_ID, code: callback.searchParams.get('code') as string, redirect_uri: REDIRECT, code_verifier: verifier });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${await r.text()}`);
  return r.json<Tokens>();
}

export function apiCall(browser: Browser, token: string, method: string, path: string, body?: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return browser.fetch(`/api/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
    body: body ? new URLSearchParams(body) : undefined,
  });
}
