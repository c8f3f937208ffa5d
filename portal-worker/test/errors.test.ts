import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { AppError } from '../src/core/errors.ts';
import { Browser } from './helpers.ts';

describe('error renderings', () => {
  it('renders an HTML page for browser routes', async () => {
    const r = await new Browser().fetch('/no/such/page', { headers: { accept: 'text/html' } });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toContain('text/html');
    const html = await r.text();
    expect(html).toContain('Not found');
    expect(html).toContain(r.headers.get('x-request-id') as string);
  });

  it('renders application/problem+json with a code and the request id for JSON APIs', async () => {
    const r = await new Browser().fetch('/admin/api/profiles');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    const body = await r.json<Record<string, unknown>>();
    expect(body).toMatchObject({ type: 'urn:edgeport:problem:unauthenticated', status: 401, code: 'unauthenticated', title: 'Authentication required' });
    expect(body.request_id).toBe(r.headers.get('x-request-id'));
  });

  it('renders RFC 6749 §5.2 errors with Cache-Control: no-store under /oauth/token', async () => {
    const r = await new Browser().fetch('/oauth/token', { method: 'POST' });
    expect(r.status).toBe(400);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const body = await r.json<Record<string, unknown>>();
    expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
    expect(body.error).toBe('invalid_request');
  });

  it('shows a bug as a plain 500 without its details, and keeps AppErrors as they are', async () => {
    const app = createApp();
    app.get('/boom', () => {
      throw new Error('secret internal detail');
    });
    app.get('/api/teapot', () => {
      throw new AppError('conflict', 'a clear message');
    });
    const boom = await app.fetch(new Request('http://portal.test/boom'), env, createExecutionContext());
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('secret internal detail');
    const conflict = await app.fetch(new Request('http://portal.test/api/teapot', { headers: { accept: 'application/json' } }), env, createExecutionContext());
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ code: 'conflict', detail: 'a clear message' });
  });
});

describe('security headers', () => {
  it('sends CSP, frame, sniffing and referrer headers on every response', async () => {
    for (const path of ['/login', '/no/such/page', '/static/app.css', '/admin/api/profiles']) {
      const r = await new Browser().fetch(path);
      expect(r.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(r.headers.get('x-frame-options'), path).toBe('DENY');
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('referrer-policy'), path).toBe('same-origin');
      expect(r.headers.get('x-request-id'), path).toBeTruthy();
    }
  });

  it('puts no inline script or style on the pages (CSP would block them)', async () => {
    const html = await (await new Browser().fetch('/login')).text();
    // Standards mode: without a doctype browsers fall back to quirks-mode layout.
    expect(html.startsWith('<!DOCTYPE html><html lang="en">')).toBe(true);
    // Only external scripts: an inline one (or a handler attribute) is what CSP would refuse.
    const scripts = html.match(/<script[^>]*>/gi) ?? [];
    expect(scripts).toEqual(['<script src="/static/app.js" defer="">']);
    expect(html).not.toMatch(/<script[^>]*>[^<]|style=|<style|\son[a-z]+=/i);
    expect(html).toContain('<link rel="stylesheet" href="/static/app.css"');
    const js = await new Browser().fetch('/static/app.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  });
});

describe('first-run setup', () => {
  it('refuses a wrong token, and refuses once any account exists', async () => {
    const b = new Browser();
    const wrong = await b.fetch('/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'x'.repeat(30), user: 'root', password: 'a long enough password' }),
    });
    expect(wrong.status).toBe(403);
    // Other tests in this isolate have created users by now, or this creates the first.
    const first = await b.fetch('/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'test-setup-token-0123456789', user: 'root', password: 'a long enough password' }),
    });
    expect([201, 409]).toContain(first.status);
    const second = await b.fetch('/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'test-setup-token-0123456789', user: 'root2', password: 'a long enough password' }),
    });
    expect(second.status).toBe(409);
  });
});
