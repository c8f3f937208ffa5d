import { parseArgs } from 'node:util';
import { enroll } from './enroll.ts';
import { runAgent } from './run.ts';

const USAGE = `usage:
  edgeport-agent enroll --portal <https://portal> --node <node id> --token <enrollment token> [--credential-file <path>]
  edgeport-agent run      (settings from EDGEPORT_* variables; the node credential from $CREDENTIALS_DIRECTORY)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'run') {
    if (rest.length) {
      process.stderr.write(`run takes no arguments (its settings are EDGEPORT_* variables)\n${USAGE}\n`);
      return 2;
    }
    return runAgent(process.env);
  }
  if (command === 'enroll') {
    const { values } = parseArgs({
      args: rest,
      options: { portal: { type: 'string' }, node: { type: 'string' }, token: { type: 'string' }, 'credential-file': { type: 'string' } },
      strict: true,
    });
    for (const name of ['portal', 'node', 'token'] as const) {
      if (!values[name]) {
        process.stderr.write(`missing --${name}\n${USAGE}\n`);
        return 2;
      }
    }
    const portal = new URL(values.portal as string);
    // The token and the credential cross this connection: plain http only on loopback.
    if (portal.protocol !== 'https:' && !(portal.protocol === 'http:' && /^(127\.|\[::1\]|localhost)/.test(portal.host))) {
      process.stderr.write('--portal must be https (plain http only on loopback)\n');
      return 2;
    }
    const file = values['credential-file'] ?? '/etc/edgeport-agent/node-credential';
    await enroll({ portal, nodeId: values.node as string, token: values.token as string, credentialFile: file });
    process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'enrolled', node: values.node, credential_file: file })}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: (err as Error).message })}\n`);
    process.exit(1);
  },
);
