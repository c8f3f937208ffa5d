import type { FieldError } from '../core/errors.ts';
import type { NodeFormValues } from '../views/admin-node-form.tsx';

const text = (v: NodeFormValues, name: string) => (v[name] ?? '').trim();

/** Both fields empty: the node uses the profile's range; one of two is a mistake validation names. */
function pair(four: string, six: string) {
  return four || six ? { range_four: four, range_six: six } : null;
}

function servedProfiles(v: NodeFormValues): string[] {
  return Object.keys(v)
    .filter((k) => k.startsWith('serve.') && v[k])
    .map((k) => k.slice('serve.'.length));
}

/**
 * Turns the node form into the body the JSON API takes, so both go through the same validation.
 * `id` is left out for an edit: the command takes it from the URL.
 */
export function nodeInputFromForm(v: NodeFormValues, withId: boolean): Record<string, unknown> {
  return {
    ...(withId ? { id: text(v, 'id') } : {}),
    name: v.name ?? '',
    host_name: text(v, 'host_name'),
    // Empty keeps the key the node reported (the page may have been loaded before it did).
    ...(text(v, 'wg_public_key') ? { wg_public_key: text(v, 'wg_public_key') } : {}),
    profiles: servedProfiles(v).map((p) => ({
      profile_id: p,
      host_name: text(v, `host.${p}`) || null,
      wireguard: pair(text(v, `wg4.${p}`), text(v, `wg6.${p}`)),
      openvpn: pair(text(v, `ovpn4.${p}`), text(v, `ovpn6.${p}`)),
    })),
  };
}

/** The command names assignments by position (`profiles.0.…`); on the page the profile id says more. */
export function namedByProfile(errors: FieldError[], v: NodeFormValues): FieldError[] {
  const served = servedProfiles(v);
  return errors.map((e) => ({ ...e, path: e.path.replace(/^profiles\.(\d+)/, (whole, i: string) => (served[Number(i)] !== undefined ? `profiles.${served[Number(i)]}` : whole)) }));
}
