import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { searchAudit } from '../store/audit.ts';
import { AuditPage, type AuditFilterValues } from '../views/admin-audit.tsx';
import { adminPage } from './admin-context.ts';

/** /admin/audit: newest first, 50 a page, the `before` id as the cursor so paging is stable while rows are added. */
export const adminAudit = new Hono<AppEnv>();

const PAGE = 50;

function hrefWith(filters: AuditFilterValues, before?: number): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) p.set(k, v);
  if (before !== undefined) p.set('before', String(before));
  const query = p.toString();
  return query ? `/admin/audit?${query}` : '/admin/audit';
}

adminAudit.get('/', async (c) => {
  const page = await adminPage(c);
  const field = (name: string) => (c.req.query(name) ?? '').trim().slice(0, 255);
  const filters: AuditFilterValues = { actor: field('actor'), action: field('action'), target: field('target') };
  const beforeText = field('before');
  const before = beforeText ? (/^[1-9]\d{0,15}$/.test(beforeText) ? Number(beforeText) : null) : undefined;
  if (before === null) {
    const errors = [{ path: 'before', message: page.t('admin-stats.audit.badBefore', { value: beforeText.slice(0, 40) }) }];
    return c.html(<AuditPage page={page} filters={filters} errors={errors} entries={[]} olderHref={null} newestHref={hrefWith(filters)} />, 400);
  }
  const { entries, more } = await searchAudit(c.var.db, { actor: filters.actor, actionPrefix: filters.action, target: filters.target, before }, PAGE);
  const last = entries[entries.length - 1];
  return c.html(
    <AuditPage page={page} filters={filters} errors={[]} entries={entries} olderHref={more && last ? hrefWith(filters, last.id) : null} newestHref={before !== undefined ? hrefWith(filters) : null} />,
  );
});
