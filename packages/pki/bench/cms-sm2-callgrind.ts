/**
 * The `cms-sm2-attached-verify` comparison counted in instructions, for a figure that other load on the
 * machine does not move: `valgrind --tool=callgrind --callgrind-out-file=cg.out node --import tsx
 * bench/cms-sm2-callgrind.ts [n] [warm]`, then `callgrind_annotate --inclusive=yes cg.out | grep -E
 * 'ArrayReduceRight|ArrayPrototypeFindLast'`. After `warm` of each, `n` cached CMS verifications run inside
 * Array.prototype.reduceRight and `n` raw SM2 verifications (the same signatures over the same
 * signed-attributes bytes, key imported once) inside Array.prototype.findLast, in four alternating chunks:
 * two builtins nothing else here calls, so each one's inclusive cost is its side's instructions. The ratio
 * is findLast's count over reduceRight's. Same messages and same work as `cms-sm2.ts`.
 */
import { sm2 } from '@yizheng/gm';
import { cachedSm2Provider, createCmsVerifier } from '../src/cms-verifier.js';
import { parseSignedData } from '../src/signed-data.js';
import { cmsSm2Messages } from './cms-sm2.js';

const { certificate, messages } = cmsSm2Messages();
const verifier = createCmsVerifier({ policy: { sm2: cachedSm2Provider() } });
const publicKey = sm2.importPublicKey(certificate.spki);
const raws = messages.map((cms) => {
  const si = parseSignedData(cms).signers[0];
  if (!si?.signedAttrs) throw new Error('no signed attributes');
  return { signed: si.signedAttrs, signature: si.signature };
});
let c = 0;
let r = 0;
const cms = (): void => {
  const m = messages[c++ % messages.length];
  if (!m || !verifier.verify(m).valid) throw new Error('verification failed');
};
const raw = (): void => {
  const m = raws[r++ % raws.length];
  if (!m || !sm2.verify(publicKey, m.signed, m.signature)) throw new Error('raw verification failed');
};
const n = Number(process.argv[2] ?? 1000);
const warm = Number(process.argv[3] ?? 2000);
for (let i = 0; i < warm; i++) {
  cms();
  raw();
}
const CHUNKS = 4;
const slots = new Array<number>(Math.ceil(n / CHUNKS)).fill(0);
for (let k = 0; k < CHUNKS; k++) {
  slots.reduceRight((a) => {
    cms();
    return a;
  }, 0);
  slots.findLast(() => {
    raw();
    return false;
  });
}
