import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DesiredConfig } from '@edgeport/schema';

const FILE = 'desired.json';

/**
 * The last config the agent applied, on disk, so that after a restart it runs the same tunnels
 * without the portal. Written to a temp file, fsynced, then renamed: a crash leaves the old file
 * or the new one, never half of one. 0600: it holds tls-crypt keys.
 */
export async function saveDesired(stateDir: string, config: DesiredConfig): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const tmp = join(stateDir, `.${FILE}.${process.pid}.tmp`);
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(config));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(stateDir, FILE));
}

/** The saved config, or null if there is none or it does not parse (then the portal's snapshot is awaited). */
export async function loadDesired(stateDir: string): Promise<DesiredConfig | null> {
  let text: string;
  try {
    text = await readFile(join(stateDir, FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = DesiredConfig.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
