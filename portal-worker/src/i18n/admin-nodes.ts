/** Strings of the admin nodes and profiles pages. */
const en = {
  'admin-nodes.placeholder': '',
} as const;

export const adminNodesMessages = {
  en,
  nl: {
    'admin-nodes.placeholder': '',
  } satisfies Record<keyof typeof en, string>,
};
