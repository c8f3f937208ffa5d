import pkg from '../package.json' with { type: 'json' };

/** The agent's version as the hub and /metrics see it: the workspace package's, bundled in at build time. */
export const AGENT_VERSION: string = pkg.version;
