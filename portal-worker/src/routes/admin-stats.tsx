import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { listAudit } from '../store/audit.ts';
import { AuditPage } from '../views/admin-audit.tsx';
import { adminPage } from './admin-context.ts';

/** Statistics, the connection log search and the audit log. */
export const adminStats = new Hono<AppEnv>();

adminStats.get('/audit', async (c) =>
  c.html(<AuditPage page={await adminPage(c)} entries={await listAudit(c.var.db)} />),
);
