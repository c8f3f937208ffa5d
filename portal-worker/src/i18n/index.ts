import { adminNodesMessages } from './admin-nodes.ts';
import { adminStatsMessages } from './admin-stats.ts';
import { adminUsersMessages } from './admin-users.ts';
import { commonMessages } from './common.ts';
import { portalMessages } from './portal.ts';
import { ssoMessages } from './sso.ts';

/**
 * Every string a page shows comes from these tables. Each area keeps its own file so that the
 * Dutch table is checked against the English one by the compiler: a missing key fails `tsc`.
 */
export const LANGS = ['en', 'nl'] as const;
export type Lang = (typeof LANGS)[number];
export const LANG_NAMES: Record<Lang, string> = { en: 'English', nl: 'Nederlands' };

const tables = [commonMessages, portalMessages, adminUsersMessages, adminNodesMessages, adminStatsMessages, ssoMessages] as const;

type Keys<T> = T extends { en: infer E } ? keyof E : never;
export type MessageKey = Keys<(typeof tables)[number]>;
export type Params = Record<string, string | number>;
/** Translates a key; `{name}` placeholders are filled from params. */
export type T = (key: MessageKey, params?: Params) => string;

const merged = Object.fromEntries(LANGS.map((lang) => [lang, Object.assign({}, ...tables.map((table) => table[lang])) as Record<string, string>])) as Record<Lang, Record<string, string>>;

export function translator(lang: Lang): T {
  const table = merged[lang];
  return (key, params) => {
    const text = table[key] ?? merged.en[key] ?? key;
    return params ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole)) : text;
  };
}

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** The cookie (`L`, as upstream) wins; else the first supported language the browser asks for. */
export function pickLang(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (isLang(cookie)) return cookie;
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]?.trim().toLowerCase().slice(0, 2);
    if (isLang(tag)) return tag;
  }
  return 'en';
}

/** Dates on pages are UTC, written the same way in every language (the admin compares them with logs). */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
