import { randomBytes } from 'node:crypto';
import { makeSecrets } from '../../scripts/secrets.ts';
import type { TestProject } from 'vitest/node';
import { createDatabase, dropDatabase, startPsdbServer } from '../../test/psdb/server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    psdbUrl: string;
    secrets: Record<string, string>;
  }
}

/** One fresh MariaDB database per run, behind the PlanetScale-protocol server. */
export default async function setup(project: TestProject) {
  const database = `ep_test_worker_${randomBytes(4).toString('hex')}`;
  await createDatabase(database);
  const server = await startPsdbServer({ database });
  project.provide('psdbUrl', server.url);
  project.provide('secrets', await makeSecrets());
  return async () => {
    await server.close();
    await dropDatabase(database);
  };
}
