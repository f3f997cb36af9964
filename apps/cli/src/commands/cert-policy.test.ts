// `yizheng cert verify --policy/--explicit-policy/--inhibit-policy-mapping/--inhibit-any-policy` over the NIST
// PKITS policy vectors (§4.8–4.12): the exit code must be the vector's expected outcome for its RFC 5280 inputs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../program.js';

interface Vector {
  readonly Name: string;
  readonly CertPath: readonly string[];
  readonly ShouldValidate: boolean;
  readonly InitialPolicySet: readonly string[];
  readonly InitialPolicyMappingInhibit: boolean;
  readonly InitialExplicitPolicy: boolean;
  readonly InitialAnyPolicyInhibit: boolean;
}

const ROOT = new URL('../../../../../shared/testdata/nist-pkits/', import.meta.url);
const certFile = (f: string): string => fileURLToPath(new URL(`certs/${f}`, ROOT));
const vectors = (JSON.parse(readFileSync(new URL('vectors.json', ROOT), 'utf8')) as Vector[]).filter((v) =>
  /^4\.(8|9|10|11|12)\./.test(v.Name),
);
/** PKITS §3: NIST-test-policy-N is 2.16.840.1.101.3.2.1.48.N. */
const oid = (name: string): string =>
  name === 'anyPolicy' ? name : `2.16.840.1.101.3.2.1.48.${name.replace('NIST-test-policy-', '')}`;

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await run(argv, {
    out: (s) => (out += s),
    err: (s) => (out += s),
    stdin: () => Promise.resolve(new Uint8Array()),
  });
  return { code, out };
}

function argsOf(v: Vector): string[] {
  const [anchor, ...rest] = v.CertPath;
  const leaf = rest[rest.length - 1];
  if (anchor === undefined || leaf === undefined) throw new Error(`bad vector ${v.Name}`);
  return [
    'cert', 'verify', '--cert', certFile(leaf), '--ca', certFile(anchor),
    ...rest.slice(0, -1).flatMap((f) => ['--untrusted', certFile(f)]),
    '--at', '2024-06-01T00:00:00Z',
    ...v.InitialPolicySet.flatMap((p) => ['--policy', oid(p)]),
    ...(v.InitialExplicitPolicy ? ['--explicit-policy'] : []),
    ...(v.InitialPolicyMappingInhibit ? ['--inhibit-policy-mapping'] : []),
    ...(v.InitialAnyPolicyInhibit ? ['--inhibit-any-policy'] : []),
  ]; // prettier-ignore
}

describe('cert verify policy flags (NIST PKITS §4.8–4.12)', () => {
  it('covers the policy vectors, including each of the four inputs', () => {
    expect(vectors.length).toBe(88);
    expect(vectors.some((v) => v.InitialExplicitPolicy)).toBe(true);
    expect(vectors.some((v) => v.InitialPolicyMappingInhibit)).toBe(true);
    expect(vectors.some((v) => v.InitialAnyPolicyInhibit)).toBe(true);
    expect(vectors.some((v) => !v.InitialPolicySet.includes('anyPolicy'))).toBe(true);
  });

  it('every vector: exit 0 when it should validate, 1 when not', async () => {
    const wrong: string[] = [];
    for (const v of vectors) {
      const r = await cli(...argsOf(v));
      if (r.code !== (v.ShouldValidate ? 0 : 1)) wrong.push(`${v.Name}: exit ${r.code}: ${r.out.trim()}`);
    }
    expect(wrong).toEqual([]);
  });

  it('each flag changes the outcome on its PKITS case, and valid output lists the policies', async () => {
    const byName = (n: string): Vector => {
      const v = vectors.find((x) => x.Name.startsWith(n));
      if (!v) throw new Error(n);
      return v;
    };
    const drop = (args: string[], flag: string): string[] => args.filter((a) => a !== flag);
    // 4.8.2 subpart 2: no policies at all; fine by default, invalid with --explicit-policy.
    const explicit = argsOf(byName('4.8.2 All Certificates No Policies Test2 (Subpart 2)'));
    expect((await cli(...explicit)).out).toMatch(/^invalid: PKI_POLICY/m);
    expect((await cli(...drop(explicit, '--explicit-policy'))).code).toBe(0);
    // 4.10.1 subpart 3: a mapped path, invalid once mapping is inhibited.
    const mapping = argsOf(byName('4.10.1.3 Valid Policy Mapping Test1 (Subpart 3)'));
    expect((await cli(...mapping)).code).toBe(1);
    expect((await cli(...drop(mapping, '--inhibit-policy-mapping'))).code).toBe(0);
    // 4.12.3 subpart 2: valid only through anyPolicy.
    const anyPolicy = argsOf(byName('4.12.3 inhibitAnyPolicy Test3 (Subpart 2)'));
    expect((await cli(...anyPolicy)).code).toBe(1);
    expect((await cli(...drop(anyPolicy, '--inhibit-any-policy'))).code).toBe(0);
    // 4.8.1 subpart 2 / 3: the user-initial-policy-set decides.
    const ok = await cli(...argsOf(byName('4.8.1 All Certificates Same Policy Test1 (Subpart 2)')));
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('  policies: 2.16.840.1.101.3.2.1.48.1\n');
    expect((await cli(...argsOf(byName('4.8.1 All Certificates Same Policy Test1 (Subpart 3)')))).code).toBe(
      1,
    );
  });

  it('a --policy that is not an OID is a usage error (exit 2)', async () => {
    const v = vectors[0];
    if (!v) throw new Error('no vectors');
    const r = await cli(...argsOf(v), '--policy', 'policy-one');
    expect(r.code).toBe(2);
    expect(r.out).toContain('--policy policy-one is not an OID');
  });
});
