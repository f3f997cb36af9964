/**
 * The browser entry reaches no Node built-in except through the aliases of browser-aliases.ts: walk its static
 * import graph from source (into @yizheng/pki and @yizheng/ledger too); every `node:` import must be one the
 * aliases replace, naming only what the replacement module exports.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserVerifierAliases } from './browser-aliases.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Import {
  spec: string;
  names: string[];
  typeOnly: boolean;
}

function imports(file: string): Import[] {
  const src = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?([^'"]*?)\s+from\s+['"]([^'"]+)['"]/gm)) {
    const names = [...(m[3] ?? '').matchAll(/(?:^|[{,]\s*)(type\s+)?([A-Za-z_$][\w$]*)(?:\s+as\s+[\w$]+)?/g)]
      .filter((n) => n[1] === undefined)
      .map((n) => n[2]!)
      .filter((n) => n !== 'type');
    out.push({ spec: m[4]!, names, typeOnly: m[2] !== undefined });
  }
  for (const m of src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm))
    out.push({ spec: m[1]!, names: [], typeOnly: false });
  return out;
}

function exportsOf(file: string): Set<string> {
  const src = readFileSync(file, 'utf8');
  return new Set(
    [...src.matchAll(/^export\s+(?:const|function|class|async function)\s+([\w$]+)/gm)].map((m) => m[1]!),
  );
}

const aliases = browserVerifierAliases();
const aliasOf = (spec: string): string | undefined => aliases.find((a) => a.find.test(spec))?.replacement;
const EXTERNAL = new Set(['fflate', 'asn1js', 'tslib', 'pvtsutils']);

describe('@yizheng/evidence/browser', () => {
  it('reaches node: modules only through the aliases, and only for names they export', () => {
    const seen = new Set<string>();
    const offenders: string[] = [];
    const stack = [join(here, 'browser.ts')];
    let pkiFiles = 0;
    while (stack.length > 0) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      if (file.includes('/pki/src/')) pkiFiles++;
      for (const imp of imports(file)) {
        if (imp.typeOnly) continue;
        const alias = aliasOf(imp.spec);
        if (imp.spec.startsWith('node:')) {
          if (alias === undefined) {
            offenders.push(`${file} → ${imp.spec} (no browser module)`);
            continue;
          }
          const provided = exportsOf(alias);
          for (const n of imp.names)
            if (!provided.has(n)) offenders.push(`${file} → ${imp.spec}: ${n} not in ${alias}`);
          stack.push(alias);
        } else if (alias !== undefined) stack.push(alias);
        else if (imp.spec.startsWith('.'))
          stack.push(resolve(dirname(file), imp.spec.replace(/\.js$/, '.ts')));
        else if (!imp.spec.startsWith('@peculiar/') && !EXTERNAL.has(imp.spec))
          offenders.push(`${file} → ${imp.spec}`);
      }
    }
    expect(pkiFiles).toBeGreaterThan(10);
    expect([...seen].some((f) => f.endsWith('gm/src/browser.ts'))).toBe(true);
    expect([...seen].some((f) => f.endsWith('gm/src/index.ts'))).toBe(false);
    expect(offenders).toEqual([]);
  });
});
