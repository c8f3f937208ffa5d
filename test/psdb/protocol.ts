// Translation between mysql2 results/errors and the JSON shapes of PlanetScale's HTTP API,
// as consumed by @planetscale/database (its `cast`, `decodeRow` and `DatabaseError`).
import type { FieldPacket } from 'mysql2/promise';

/** Field as the PlanetScale HTTP API serialises it (proto3 JSON, so empty values are omitted). */
export interface PsdbField {
  name: string;
  type: string;
  table?: string;
  orgTable?: string;
  database?: string;
  orgName?: string;
  columnLength?: number;
  charset?: number;
  decimals?: number;
  flags?: number;
}

export const BINARY_CHARSET = 63;
const UNSIGNED_FLAG = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;

// Integer codes have a signed and an unsigned Vitess name; the driver parses
// the 8..32-bit ones with parseInt but keeps INT64/UINT64 as strings.
const INTEGER_TYPES: Record<number, readonly [string, string]> = {
  1: ['INT8', 'UINT8'],
  2: ['INT16', 'UINT16'],
  9: ['INT24', 'UINT24'],
  3: ['INT32', 'UINT32'],
  8: ['INT64', 'UINT64'],
};

const FIXED_TYPES: Record<number, string> = {
  0: 'DECIMAL',
  246: 'DECIMAL',
  4: 'FLOAT32',
  5: 'FLOAT64',
  6: 'NULL_TYPE',
  7: 'TIMESTAMP',
  17: 'TIMESTAMP',
  10: 'DATE',
  14: 'DATE',
  11: 'TIME',
  19: 'TIME',
  12: 'DATETIME',
  18: 'DATETIME',
  13: 'YEAR',
  16: 'BIT',
  245: 'JSON',
  255: 'GEOMETRY',
};

export function vitessType(code: number, flags: number, charset: number, extendedFormat?: string): string {
  const ints = INTEGER_TYPES[code];
  if (ints) return flags & UNSIGNED_FLAG ? ints[1] : ints[0];
  const fixed = FIXED_TYPES[code];
  if (fixed) return fixed;
  // MariaDB's JSON is a LONGTEXT alias; only its extended metadata says it is JSON.
  if (extendedFormat === 'json') return 'JSON';
  // MySQL reports ENUM/SET columns as plain STRING with a flag, as Vitess expects.
  if (flags & ENUM_FLAG || code === 247) return 'ENUM';
  if (flags & SET_FLAG || code === 248) return 'SET';
  // The BINARY flag is also set for *_bin collations (utf8mb4_bin is our default),
  // so only the binary charset distinguishes bytes from text.
  const binary = charset === BINARY_CHARSET;
  if (code === 254) return binary ? 'BINARY' : 'CHAR';
  if (code >= 249 && code <= 252) return binary ? 'BLOB' : 'TEXT';
  return binary ? 'VARBINARY' : 'VARCHAR';
}

export function toPsdbField(f: FieldPacket): PsdbField {
  const code = f.columnType ?? f.type ?? 253;
  const flags = typeof f.flags === 'number' ? f.flags : 0;
  const charset = f.characterSet ?? BINARY_CHARSET;
  const out: PsdbField = { name: f.name, type: vitessType(code, flags, charset, f.extendedFormat) };
  if (f.table) out.table = f.table;
  if (f.orgTable) out.orgTable = f.orgTable;
  if (f.db) out.database = f.db;
  if (f.orgName) out.orgName = f.orgName;
  if (f.columnLength) out.columnLength = f.columnLength;
  out.charset = charset;
  if (f.decimals) out.decimals = f.decimals;
  if (flags) out.flags = flags;
  return out;
}

// Vitess turns MySQL errno into a gRPC code; callers may switch on either, so
// the common ones are mirrored (anything else is UNKNOWN, as in Vitess).
const GRPC_BY_ERRNO: Record<number, string> = {
  1062: 'ALREADY_EXISTS',
  1586: 'ALREADY_EXISTS',
  1050: 'ALREADY_EXISTS',
  1007: 'ALREADY_EXISTS',
  1146: 'NOT_FOUND',
  1049: 'NOT_FOUND',
  1064: 'INVALID_ARGUMENT',
  1054: 'INVALID_ARGUMENT',
  1052: 'INVALID_ARGUMENT',
  1048: 'INVALID_ARGUMENT',
  1264: 'INVALID_ARGUMENT',
  1292: 'INVALID_ARGUMENT',
  1366: 'INVALID_ARGUMENT',
  1406: 'INVALID_ARGUMENT',
  1451: 'FAILED_PRECONDITION',
  1452: 'FAILED_PRECONDITION',
  1213: 'ABORTED',
  1205: 'DEADLINE_EXCEEDED',
};

/** ALREADY_EXISTS -> AlreadyExists, the spelling used inside Vitess error messages. */
function grpcCamel(code: string): string {
  return code.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _sep: string, ch: string) => ch.toUpperCase());
}

export interface VitessError {
  code: string;
  message: string;
}

export const errorBody = (code: string, message: string): { error: VitessError } => ({ error: { code, message } });

/**
 * Formats a mysql2 error the way vttablet does, so callers can detect e.g. unique
 * violations by "Duplicate entry", "(errno 1062)" or code ALREADY_EXISTS, as in production.
 */
export function sqlError(err: unknown, ctx: { database: string; username: string; sql: string }): VitessError {
  const e = err as { errno?: number; sqlState?: string; sqlMessage?: string; message?: string };
  const target = `target: ${ctx.database}.-.primary`;
  if (e.errno === undefined) return { code: 'UNAVAILABLE', message: `${target}: ${e.message ?? String(err)}` };
  const code = GRPC_BY_ERRNO[e.errno] ?? 'UNKNOWN';
  const desc = `${e.sqlMessage ?? e.message} (errno ${e.errno}) (sqlstate ${e.sqlState ?? 'HY000'})`;
  const sql = JSON.stringify(ctx.sql.slice(0, 200));
  const rpc = `vttablet: rpc error: code = ${grpcCamel(code)} desc = ${desc}`;
  return { code, message: `${target}: ${rpc} (CallerID: ${ctx.username}): Sql: ${sql}, BindVars: {REDACTED}` };
}

/** A mysql2 `query()` outcome (rowsAsArray + Buffer typeCast) as a PlanetScale `result`. */
export function encodeResult(rows: unknown, fields: FieldPacket[] | undefined): object {
  if (!Array.isArray(rows)) {
    const header = rows as { affectedRows?: number | string; insertId?: number | string };
    // uint64 is a string in proto3 JSON; the driver parseInt()s rowsAffected and passes insertId through.
    return { rowsAffected: String(header.affectedRows ?? 0), insertId: String(header.insertId ?? 0) };
  }
  // CALL yields [resultSet, okPacket]; only the first set is representable here.
  if (Array.isArray(fields?.[0])) return encodeResult(rows[0], fields[0] as unknown as FieldPacket[]);
  return {
    fields: (fields ?? []).map(toPsdbField),
    // The driver atob()s `values` and slices it by byte `lengths`, so both must be in bytes, not characters.
    rows: (rows as (Buffer | null)[][]).map((cells) => ({
      lengths: cells.map((c) => (c === null ? '-1' : String(c.length))),
      values: Buffer.concat(cells.filter((c): c is Buffer => c !== null)).toString('base64'),
    })),
    rowsAffected: '0',
    insertId: '0',
  };
}
