/**
 * The text protocol of OpenVPN's management interface, without any socket: a line splitter that
 * turns output into real-time notifications (lines starting with `>`) and reply lines (everything
 * else, answering the one outstanding command), and the parser of `status 3`.
 *
 * With `--management-client-auth`, `>CLIENT:CONNECT|REAUTH|ESTABLISHED|DISCONNECT|CR_RESPONSE`
 * each open a block of `>CLIENT:ENV,name=value` lines closed by `>CLIENT:ENV,END`. OpenVPN writes a
 * block in one go from its single thread, so reply lines never interleave with an open block.
 */

export type ClientEventKind = 'CONNECT' | 'REAUTH' | 'ESTABLISHED' | 'DISCONNECT' | 'CR_RESPONSE';

export type ManagementMessage =
  /** A `>CLIENT:` block with its environment. `kid` only for CONNECT, REAUTH and CR_RESPONSE. */
  | { kind: 'client'; event: ClientEventKind; cid: number; kid: number | null; env: Record<string, string> }
  /** `>CLIENT:ADDRESS,<cid>,<addr>,<primary>`: a virtual address was learned for a client. */
  | { kind: 'address'; cid: number; address: string; primary: boolean }
  /** Any other notification (`>INFO:…`, `>LOG:…`, `>STATE:…`, `>FATAL:…`), by its tag. */
  | { kind: 'notification'; tag: string; text: string }
  /** A line of the reply to the outstanding command (`SUCCESS: …`, `ERROR: …`, a row, `END`). */
  | { kind: 'reply'; line: string };

const BLOCK_EVENTS: ReadonlySet<string> = new Set(['CONNECT', 'REAUTH', 'ESTABLISHED', 'DISCONNECT', 'CR_RESPONSE']);

export class ManagementParser {
  private buffer = '';
  private block: Extract<ManagementMessage, { kind: 'client' }> | null = null;

  /** Feeds raw output; returns the messages completed by it (a partial line waits for the rest). */
  feed(chunk: string): ManagementMessage[] {
    this.buffer += chunk;
    const out: ManagementMessage[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: ManagementMessage[]): void {
    if (!line.startsWith('>')) {
      out.push({ kind: 'reply', line });
      return;
    }
    const colon = line.indexOf(':');
    const tag = colon < 0 ? line.slice(1) : line.slice(1, colon);
    const text = colon < 0 ? '' : line.slice(colon + 1);
    if (tag !== 'CLIENT') {
      out.push({ kind: 'notification', tag, text });
      return;
    }
    if (text.startsWith('ENV,')) {
      const entry = text.slice(4);
      if (!this.block) return; // an ENV line without its header: nothing to attach it to
      if (entry === 'END') {
        out.push(this.block);
        this.block = null;
        return;
      }
      const eq = entry.indexOf('=');
      // Values may contain '=' (e.g. tls_id_0 with a DN); only the first one separates the name.
      if (eq > 0) this.block.env[entry.slice(0, eq)] = entry.slice(eq + 1);
      return;
    }
    // A new header while a block is open means the old one lost its END; do not merge them.
    if (this.block) {
      out.push(this.block);
      this.block = null;
    }
    const [event = '', ...args] = text.split(',');
    if (event === 'ADDRESS') {
      out.push({ kind: 'address', cid: Number(args[0]), address: args[1] ?? '', primary: args[2] === '1' });
      return;
    }
    if (BLOCK_EVENTS.has(event)) {
      const kid = event === 'CONNECT' || event === 'REAUTH' || event === 'CR_RESPONSE' ? Number(args[1]) : null;
      this.block = { kind: 'client', event: event as ClientEventKind, cid: Number(args[0]), kid, env: {} };
      return;
    }
    out.push({ kind: 'notification', tag, text });
  }
}

/** One `CLIENT_LIST` row of `status 3`. */
export interface StatusClient {
  commonName: string;
  /** The client's public address without the port. */
  realAddress: string | null;
  ipFour: string | null;
  ipSix: string | null;
  rx: number;
  tx: number;
  /** Epoch seconds. */
  connectedSince: number;
  cid: number;
}

/** Drops the `:port` OpenVPN appends (also to IPv6 addresses, without brackets) and any brackets. */
function hostOf(realAddress: string): string | null {
  if (!realAddress) return null;
  const bracketed = /^\[(.*)\]:\d+$/.exec(realAddress);
  if (bracketed) return bracketed[1] ?? null;
  return realAddress.replace(/:\d+$/, '');
}

/**
 * Parses the reply lines of `status 3` (tab-separated). Columns are looked up by the names in the
 * `HEADER CLIENT_LIST` row, so an added column in a newer OpenVPN does not shift the others.
 */
export function parseStatus3(lines: readonly string[]): StatusClient[] {
  let columns: string[] = [];
  const clients: StatusClient[] = [];
  for (const line of lines) {
    const cells = line.split('\t');
    if (cells[0] === 'HEADER' && cells[1] === 'CLIENT_LIST') {
      columns = cells.slice(1);
      continue;
    }
    if (cells[0] !== 'CLIENT_LIST') continue;
    const get = (name: string) => {
      const i = columns.indexOf(name);
      return i < 0 ? '' : (cells[i] ?? '');
    };
    clients.push({
      commonName: get('Common Name'),
      realAddress: hostOf(get('Real Address')),
      ipFour: get('Virtual Address') || null,
      ipSix: get('Virtual IPv6 Address') || null,
      rx: Number(get('Bytes Received')) || 0,
      tx: Number(get('Bytes Sent')) || 0,
      connectedSince: Number(get('Connected Since (time_t)')) || 0,
      cid: Number(get('Client ID')),
    });
  }
  return clients;
}
