import { Hono } from 'hono';
import { addressSpellings, dateTimeValue, parseUtcDateTime } from '../domain/log-search.ts';
import type { AppEnv } from '../env.ts';
import type { FieldError } from '../core/errors.ts';
import { whoHad } from '../store/connection-log.ts';
import { LogPage } from '../views/admin-log.tsx';
import { adminPage } from './admin-context.ts';

/** /admin/log: who had address X at time T (upstream's /log). */
export const adminLog = new Hono<AppEnv>();

adminLog.get('/', async (c) => {
  const page = await adminPage(c);
  const { t } = page;
  const now = Date.now();
  const ipText = c.req.query('ip');
  const atText = c.req.query('at');
  if (ipText === undefined && atText === undefined) {
    return c.html(<LogPage page={page} values={{ ip: '', at: dateTimeValue(now) }} errors={[]} result={null} />);
  }
  const values = { ip: (ipText ?? '').slice(0, 100), at: (atText ?? '').slice(0, 40) };
  const errors: FieldError[] = [];
  const spellings = addressSpellings(values.ip);
  if (!spellings) errors.push({ path: 'ip', message: t('admin-stats.log.badIp', { value: values.ip }) });
  // An empty time means "now", as the form's default does.
  const when = values.at.trim() ? parseUtcDateTime(values.at) : { from: now, to: now };
  if (!when) errors.push({ path: 'at', message: t('admin-stats.log.badAt', { value: values.at }) });
  if (!spellings || !when) return c.html(<LogPage page={page} values={values} errors={errors} result={null} />, 400);
  const hits = await whoHad(c.var.db, spellings, when.from, when.to);
  const shown = new Date(when.from)
    .toISOString()
    .slice(0, when.to === when.from ? 19 : 16)
    .replace('T', ' ');
  return c.html(<LogPage page={page} values={values} errors={[]} result={{ ip: spellings[0] as string, at: shown, hits: hits.map((h) => ({ ...h, id: Number(h.id) })) }} />);
});
