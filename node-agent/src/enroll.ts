import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface EnrollOptions {
  portal: URL;
  nodeId: string;
  token: string;
  credentialFile: string;
  fetchImpl?: typeof fetch;
}

/**
 * Trades the one-time enrollment token for the node's credential and stores it 0600 (temp file,
 * fsync, rename), where the systemd unit's LoadCredential= picks it up. The credential is never
 * printed.
 */
export async function enroll(o: EnrollOptions): Promise<void> {
  const r = await (o.fetchImpl ?? fetch)(new URL('/node/enroll', o.portal), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ node_id: o.nodeId, token: o.token }),
  });
  const body = (await r.json().catch(() => ({}))) as { credential?: unknown; detail?: unknown };
  if (r.status !== 201 || typeof body.credential !== 'string') {
    throw new Error(`enrollment refused (HTTP ${r.status}): ${typeof body.detail === 'string' ? body.detail : 'no detail'}`);
  }
  await mkdir(dirname(o.credentialFile), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(o.credentialFile), `.node-credential.${process.pid}.tmp`);
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(`${body.credential}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, o.credentialFile);
}
