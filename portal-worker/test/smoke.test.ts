import { env, exports } from 'cloudflare:workers';
import { expect, it } from 'vitest';

it('answers health', async () => {
  const r = await exports.default.fetch('http://portal.test/health');
  expect(r.status).toBe(200);
  expect(env.PSDB_URL).toMatch(/^http:/);
});
