/**
 * Masking of patient identifiers for reports (the report may leave the hospital: never the clear value).
 * Names keep the family name (first character) and, for names of three or more, the last character:
 * 张三 → 张*, 欧阳娜娜 → 欧**娜. Identifiers keep the first 3 and last 4 characters when long enough
 * (身份证号 110101199003074518 → 110***********4518), otherwise only the last 2.
 */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

export function maskIdentifier(id: string): string {
  const chars = Array.from(id.trim());
  if (chars.length >= 10)
    return `${chars.slice(0, 3).join('')}${'*'.repeat(chars.length - 7)}${chars.slice(-4).join('')}`;
  if (chars.length <= 2) return '*'.repeat(chars.length);
  return `${'*'.repeat(chars.length - 2)}${chars.slice(-2).join('')}`;
}
