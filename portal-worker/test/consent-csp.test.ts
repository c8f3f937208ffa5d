import { describe, expect, it } from 'vitest';
import { cspSourceFor } from '../src/routes/oauth.tsx';
import { Browser, makeUser, PASSWORD } from './helpers.ts';
import { authorizeQuery, pkcePair } from './oauth-helpers.ts';

const formAction = (res: Response) => /form-action ([^;]+)/.exec(res.headers.get('content-security-policy') ?? '')?.[1];

describe('the consent page may send its answer on to the app', () => {
  // Chromium applies form-action to the redirect that follows a submit (found by the browser test).
  it('allows exactly the redirect target of this request as a form-action, and nothing more elsewhere', async () => {
    const user = await makeUser('d1');
    const browser = new Browser('d1');
    const query = authorizeQuery((await pkcePair()).challenge, { redirect_uri: 'http://127.0.0.1:43987/callback' });
    expect((await browser.login(user, PASSWORD)).status).toBe(303);
    const consent = await browser.fetch(`/oauth/authorize?${query}`);
    expect(consent.status).toBe(200);
    expect(formAction(consent)).toBe("'self' http://127.0.0.1:43987");
    expect(formAction(await browser.fetch('/'))).toBe("'self'");
  });

  it.each([
    ['http://127.0.0.1:8123/callback', 'http://127.0.0.1:8123'],
    ['https://app.example.org/cb', 'https://app.example.org'],
    ['org.eduvpn.app:/api/callback', 'org.eduvpn.app:'],
    ['http://[::1]:8123/callback', 'http:'],
  ])('%s → %s', (uri, source) => {
    expect(cspSourceFor(uri)).toBe(source);
  });
});
