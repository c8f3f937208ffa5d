/** Strings of the admin statistics, connection log and audit pages. */
const en = {
  'admin-stats.placeholder': '',
} as const;

export const adminStatsMessages = {
  en,
  nl: {
    'admin-stats.placeholder': '',
  } satisfies Record<keyof typeof en, string>,
};
