import { cast as defaultCast, type Field } from '@planetscale/database';

/**
 * Our BIGINT columns hold epoch milliseconds, well inside 2^53, so both dialects should read
 * them as numbers; the driver's default keeps INT64 as a string to be safe for any value.
 */
export function castSafeIntegers(field: Field, value: unknown): unknown {
  if ((field.type === 'INT64' || field.type === 'UINT64') && typeof value === 'string') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  return defaultCast(field, value as string | null);
}
