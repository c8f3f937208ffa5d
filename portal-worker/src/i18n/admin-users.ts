/** Strings of the admin users and connections pages. */
const en = {
  'admin-users.placeholder': '',
} as const;

export const adminUsersMessages = {
  en,
  nl: {
    'admin-users.placeholder': '',
  } satisfies Record<keyof typeof en, string>,
};
