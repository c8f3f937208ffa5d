/** Strings of the user portal (home, configurations, account, password). */
const en = {
  'portal.placeholder': '',
} as const;

export const portalMessages = {
  en,
  nl: {
    'portal.placeholder': '',
  } satisfies Record<keyof typeof en, string>,
};
