import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import { offeredProtocols, type ConfigFieldProblem } from '../domain/portal-configs.ts';
import { listPortalConfigs } from '../store/configs.ts';
import { allowedFor, listProfiles } from '../store/profiles.ts';
import { HomePage, type HomeAlert } from '../views/home.tsx';
import type { NewConfigValues } from '../views/portal-config-form.tsx';
import { pageContext } from './page-context.ts';

const PROBLEM_KEYS = { name: 'portal.error.name', profile: 'portal.error.profile', proto: 'portal.error.proto' } as const;

/** Refused fields in the user's language; the path names the form field. */
export function problemErrors(c: Context<AppEnv>, problems: ConfigFieldProblem[]): FieldError[] {
  return problems.map((p) => ({ path: p.field === 'name' ? 'display_name' : 'profile', message: c.var.t(PROBLEM_KEYS[p.problem]) }));
}

/** The home page, also re-rendered (with the user's input and what went wrong) when a create is refused. */
export async function renderHome(c: Context<AppEnv>, extra: { values?: NewConfigValues; errors?: FieldError[]; alert?: HomeAlert } = {}, status: 200 | 400 | 403 | 409 | 503 = 200): Promise<Response> {
  const user = c.var.user;
  if (!user) throw new AppError('unauthenticated', 'sign in first');
  const [all, configs, page] = await Promise.all([listProfiles(c.var.db), listPortalConfigs(c.var.db, user.id, Date.now()), pageContext(c)]);
  const profiles = allowedFor(all, user.permissions);
  const choices = profiles.flatMap((p) => offeredProtocols(p).map((proto) => ({ value: `${p.id}:${proto}`, profileName: p.display_name, proto })));
  return c.html(<HomePage page={{ ...page, user }} profiles={profiles} choices={choices} configs={configs} max={c.var.config.vpn.maxActivePortalConfigs} {...extra} />, status);
}
