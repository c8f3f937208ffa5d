import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { app } from '../src/app.ts';
import { envFor } from './helpers.ts';

async function send(path: string, body: ReadableStream<Uint8Array>, type: string): Promise<Response> {
  const ctx = createExecutionContext();
  const req = new Request(`http://portal.test${path}`, { method: 'POST', headers: { 'content-type': type, 'cf-connecting-ip': '198.51.100.9' }, body, duplex: 'half' } as RequestInit);
  const res = await app.fetch(req, envFor('d1'), ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** What an upload the client abandoned halfway looks like to the Worker: a body stream that errors. */
function cutOff(): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('grant_type=authorization_code&code='));
      controller.error(new Error('Network connection lost.'));
    },
  });
}

describe('a request body cut off mid-upload', () => {
  // Found by the fuzz run: the read threw inside a handler and came out as a 500.
  it.each([
    ['/oauth/token', 'application/x-www-form-urlencoded', 'application/json'],
    ['/api/v3/connect', 'application/x-www-form-urlencoded', 'application/json'],
    ['/login', 'application/x-www-form-urlencoded', 'text/html'],
    ['/admin/api/profiles', 'application/json', 'application/problem+json'],
  ])('%s answers 400, not 500', async (path, type, answer) => {
    const res = await send(path, cutOff(), type);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain(answer);
  });

  it('still refuses an oversized body as 413', async () => {
    const big = new TextEncoder().encode('x'.repeat(70 * 1024));
    const res = await send('/oauth/token', new ReadableStream({ start: (c) => (c.enqueue(big), c.close()) }), 'application/x-www-form-urlencoded');
    expect(res.status).toBe(413);
  });
});
