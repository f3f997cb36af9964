/**
 * Canonical JSON for hashing: object keys sorted by UTF-16 code unit order, no whitespace, integers only (no
 * floats, no NaN), strings escaped as JSON.stringify does. Two equal values always serialise to the same bytes.
 */
export type CanonicalValue =
  string | number | boolean | null | CanonicalValue[] | { [key: string]: CanonicalValue };

export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonicalJson: ${value} is not a safe integer`);
    return String(value);
  }
  // Built by concatenation (no per-member arrays and joins): the record path serialises several values per record.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      if (i in value) out += canonicalJson(value[i] as CanonicalValue); // a hole prints as nothing, as join does
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(value[k] as CanonicalValue)}`;
  }
  return `${out}}`;
}
