import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import { killConfigCommand } from '../domain/user-commands.ts';
import { fieldErrors } from '../domain/validation.ts';
import { listConfigs, profilesAndNodes, type SessionsSnapshot } from '../store/live-sessions.ts';
import { connectionSections, nodesToAsk } from '../views/admin-connections-model.ts';
import { ConnectionsPage, ConnectionsTables } from '../views/admin-connections.tsx';
import { formValues } from './admin-forms.ts';
import { adminPage, auditContext, wantsFragment } from './admin-context.ts';

/** Live connections per profile and node, with kill. */
export const adminConnections = new Hono<AppEnv>();

/** A node object that does not answer in time is shown as "no report": the page polls every 2 s. */
const REPORT_WAIT_MS = 1500;

async function reportOf(c: Context<AppEnv>, nodeId: string): Promise<SessionsSnapshot | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const stub = c.env.NODE_CHANNEL.get(c.env.NODE_CHANNEL.idFromName(nodeId));
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), REPORT_WAIT_MS)));
    return await Promise.race([stub.lastSessions(), late]);
  } catch (err) {
    console.log(JSON.stringify({ level: 'warn', msg: 'no sessions report from the node channel', request_id: c.var.requestId, node: nodeId, error: (err as Error).message }));
    return null;
  } finally {
    clearTimeout(timer);
  }
}

async function sections(c: Context<AppEnv>) {
  const now = Date.now();
  const [skeleton, configs] = await Promise.all([profilesAndNodes(c.var.db), listConfigs(c.var.db, { liveAt: now })]);
  const ids = nodesToAsk(skeleton, configs);
  const reports = new Map(await Promise.all(ids.map(async (id) => [id, await reportOf(c, id)] as const)));
  return connectionSections(skeleton, configs, reports, now);
}

async function page(c: Context<AppEnv>, errors: FieldError[], status: 200 | 400) {
  return c.html(<ConnectionsPage page={await adminPage(c)} sections={await sections(c)} errors={errors} />, status);
}

adminConnections.get('/', async (c) => {
  if (wantsFragment(c)) return c.html(<ConnectionsTables page={await adminPage(c)} sections={await sections(c)} />);
  return page(c, [], 200);
});

const KillBody = z.object({ protocol: z.enum(['wireguard', 'openvpn']), key: z.string().min(1).max(255) });

adminConnections.post('/kill', async (c) => {
  const body = KillBody.safeParse(formValues(await c.req.parseBody()));
  if (!body.success) return page(c, fieldErrors(body.error), 400);
  const result = await killConfigCommand(c.var.db, c.var.notifier, body.data.protocol, body.data.key, Date.now(), auditContext(c));
  if (!result.ok) throw new AppError('not_found', 'that configuration no longer exists; it may have been removed already');
  return c.redirect('/admin/connections', 303);
});
