/** JSON list columns: the store writes them, so a parse failure is a corrupted row, not user input. */
export function parseList(text: string | null): string[] {
  if (text === null) return [];
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error('corrupt JSON list column');
  return value;
}

export function parseNumbers(text: string): number[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) throw new Error('corrupt JSON number column');
  return value;
}
