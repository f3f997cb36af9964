/**
 * Report benchmark: evidence reports (PDF, Chinese, CJK font subset embedded, QR code, platform seal) rendered
 * one after another on one core from a fully populated view (src/report/sample.ts), after a warm-up.
 * Target: ≥ 50 PDFs/s per core.
 *
 *     npm run bench:report -- [--seconds 5] [--lang zh-CN|en-US]
 */
import { parseArgs } from 'node:util';
import { sm2 } from '@yizheng/gm';
import { loadReportFonts } from '../src/report/font.js';
import { renderReport } from '../src/report/render.js';
import { sampleReportView } from '../src/report/sample.js';
import { sealReport } from '../src/report/seal.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, lang: { type: 'string', default: 'zh-CN' } },
});
const seconds = Number(values.seconds);
const locale = values.lang === 'en-US' ? 'en-US' : 'zh-CN';
const t0 = performance.now();
const fonts = loadReportFonts();
console.log(`font load: ${(performance.now() - t0).toFixed(0)} ms (once per process)`);
const key = sm2.generateKeyPair().privateKey;
const view = sampleReportView(locale);
for (let i = 0; i < 5; i++) await renderReport(view, sealReport({ view, privateKey: key }), { fonts });
let n = 0;
let bytes = 0;
const start = performance.now();
while (performance.now() - start < seconds * 1000) {
  const pdf = await renderReport(view, sealReport({ view, privateKey: key }), { fonts });
  bytes += pdf.length;
  n++;
}
const elapsed = (performance.now() - start) / 1000;
console.log(
  `${locale}: ${n} reports in ${elapsed.toFixed(2)} s = ${(n / elapsed).toFixed(1)} PDFs/s on one core ` +
    `(${((elapsed * 1000) / n).toFixed(1)} ms each, ${(bytes / n / 1024).toFixed(0)} KiB avg); target ≥ 50/s`,
);
