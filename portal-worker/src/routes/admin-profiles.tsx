import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import type { ProfileConfig } from '../domain/profile.ts';
import { createProfileCommand, deleteProfileCommand, updateProfileCommand } from '../domain/profile-commands.ts';
import { addressUsage } from '../domain/address-usage.ts';
import { getProfile, listProfiles } from '../store/profiles.ts';
import { profileToForm, ProfileFormPage, ProfilesPage } from '../views/admin-profiles.tsx';
import { formValues, profileInputFromForm } from './admin-forms.ts';
import { adminPage, auditContext } from './admin-context.ts';

export const adminProfiles = new Hono<AppEnv>();

adminProfiles.get('/', async (c) => {
  const profiles = await listProfiles(c.var.db);
  return c.html(<ProfilesPage page={await adminPage(c)} profiles={profiles} usage={await addressUsage(c.var.db, profiles, Date.now())} />);
});

/** The nodes serving this profile and the address room on each, for the edit page. */
async function usageOf(c: Context<AppEnv>, profile: ProfileConfig | null) {
  if (!profile) return [];
  return (await addressUsage(c.var.db, [profile], Date.now(), profile.id)).get(profile.id) ?? [];
}

const NEW_PROFILE = { default_gateway: 'on', wg_port: '51820', ovpn_udp_ports: '1194', ovpn_tcp_ports: '1194', preferred_proto: 'openvpn' };

adminProfiles.get('/new', async (c) => c.html(<ProfileFormPage page={await adminPage(c)} mode="new" values={NEW_PROFILE} errors={[]} />));

adminProfiles.post('/', async (c) => {
  const values = formValues(await c.req.parseBody());
  const result = await createProfileCommand(c.var.db, profileInputFromForm(values), Date.now(), auditContext(c));
  if (result.ok) return c.redirect(`/admin/profiles/${encodeURIComponent(result.profile.id)}`, 303);
  return c.html(<ProfileFormPage page={await adminPage(c)} mode="new" values={values} errors={result.errors} />, 400);
});

adminProfiles.get('/:id', async (c) => {
  const profile = await getProfile(c.var.db, c.req.param('id'));
  if (!profile) throw new AppError('not_found', `no profile "${c.req.param('id')}"`);
  return c.html(<ProfileFormPage page={await adminPage(c)} mode="edit" values={profileToForm(profile)} errors={[]} usage={await usageOf(c, profile)} />);
});

adminProfiles.post('/:id', async (c) => {
  const id = c.req.param('id');
  const values = { ...formValues(await c.req.parseBody()), id };
  const result = await updateProfileCommand(c.var.db, c.var.notifier, id, profileInputFromForm(values), Date.now(), auditContext(c));
  if (result.ok) return c.redirect(`/admin/profiles/${encodeURIComponent(id)}`, 303);
  const usage = await usageOf(c, await getProfile(c.var.db, id));
  return c.html(<ProfileFormPage page={await adminPage(c)} mode="edit" values={values} errors={result.errors} usage={usage} />, 400);
});

adminProfiles.post('/:id/delete', async (c) => {
  await deleteProfileCommand(c.var.db, c.var.notifier, c.req.param('id'), Date.now(), auditContext(c));
  return c.redirect('/admin/profiles', 303);
});
