/**
 * Report benchmark: evidence reports (PDF, Chinese, CJK font subset embedded, QR code, platform seal) rendered
 * one after another on one core from a fully populated view (src/report/sample.ts), after a warm-up; each
 * report is sealed (SM2) and rendered afresh. Target: ≥ 50 PDFs/s per core. The rate per core divides by the
 * process's CPU time (user + system, all threads: the loop is single-threaded, so this is one core's worth),
 * which a busy machine does not distort; the wall-clock rate is printed beside it.
 *
 *     npm run bench:report -- [--seconds 5] [--lang zh-CN|en-US]
 */
import { loadavg } from 'node:os';
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
const cpu0 = process.cpuUsage();
while (performance.now() - start < seconds * 1000) {
  const pdf = await renderReport(view, sealReport({ view, privateKey: key }), { fonts });
  bytes += pdf.length;
  n++;
}
const elapsed = (performance.now() - start) / 1000;
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const perCore = n / cpuSeconds;
console.log(
  `${locale}: ${n} reports in ${elapsed.toFixed(2)} s wall (${(n / elapsed).toFixed(1)}/s), ` +
    `${cpuSeconds.toFixed(2)} s CPU = ${perCore.toFixed(1)} PDFs/s per core ` +
    `(${((cpuSeconds * 1000) / n).toFixed(1)} ms CPU each, ${(bytes / n / 1024).toFixed(0)} KiB avg); target ≥ 50/s; ` +
    `load average ${load}`,
);
console.log(
  JSON.stringify({
    bench: `report.${locale}`,
    ours: Math.round(perCore * 10) / 10,
    reference: 50,
    ratio: Math.round((perCore / 50) * 1000) / 1000,
    unit: 'evidence-report PDFs per CPU-second (one core); reference: the 50/s target',
    wallPerSecond: Math.round((n / elapsed) * 10) / 10,
    kib: Math.round(bytes / n / 1024),
    loadAverage: load,
  }),
);
