/**
 * The trust store for evidence verification (`YIZHENG_TRUST_STORE`): a PEM file, or a directory whose `*.pem`,
 * `*.crt` and `*.cer` files hold one or more PEM certificates each (the trusted roots, and optionally
 * intermediates). Read once at startup; an unreadable or malformed store refuses the start (CONFIG_INVALID).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isPkiError, parseCertificate, type ParsedCertificate } from '@yizheng/pki';
import { StartupError } from '../startup-error.js';

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Parses every PEM certificate in the text; `source` names the file in errors. */
export function parsePemBundle(text: string, source: string): ParsedCertificate[] {
  const blocks = text.match(PEM_CERT_RE) ?? [];
  return blocks.map((pem, i) => {
    try {
      return parseCertificate(pem);
    } catch (e) {
      if (isPkiError(e))
        throw new StartupError('CONFIG_INVALID', `trust store ${source}: certificate ${i + 1}: ${e.code}`, {
          cause: e,
        });
      throw e;
    }
  });
}

export function loadTrustStore(path: string): ParsedCertificate[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => /\.(pem|crt|cer)$/i.test(f))
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (e) {
    throw new StartupError(
      'CONFIG_INVALID',
      `cannot read the trust store ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      { cause: e },
    );
  }
  const certs = files.flatMap((f) => parsePemBundle(readFileSync(f, 'utf8'), f));
  if (certs.length === 0)
    throw new StartupError('CONFIG_INVALID', `the trust store ${path} holds no PEM certificate`);
  return certs;
}
