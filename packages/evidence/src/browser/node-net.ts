/** `node:net` for the browser build of the verifier: `isIP` only (as `@yizheng/pki` extensions.ts uses it). */
const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIP(s: string): 0 | 4 | 6 {
  if (V4.test(s)) return 4;
  const core = s.replace(/%[0-9A-Za-z._~-]+$/, ''); // an IPv6 zone id (fe80::1%eth0)
  if (!core.includes(':') || !/^[0-9a-fA-F:.]+$/.test(core)) return 0;
  try {
    new URL(`http://[${core}]/`);
    return 6;
  } catch {
    return 0;
  }
}
