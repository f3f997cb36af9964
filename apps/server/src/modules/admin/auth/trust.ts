/**
 * The console's trust store: a PEM bundle of CA certificates (self-issued ones are trust anchors, the others
 * intermediates) and an optional PEM bundle of CRLs, read from the files named in the configuration at each
 * login (so a refreshed CRL takes effect without a restart). A file that cannot be read or parsed refuses the
 * login (fail closed) rather than skipping the check.
 */
import { readFileSync } from 'node:fs';
import {
  isPkiError,
  isSelfIssued,
  parseCertificate,
  parseCrl,
  type ParsedCertificate,
  type ParsedCrl,
} from '@yizheng/pki';
import { YzError } from '../../../errors.js';
import type { TrustStore } from './service.js';

function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return text.match(re) ?? [];
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new YzError(
      'LOGIN_CERT_INVALID',
      `trust store unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: e,
      },
    );
  }
}

export function loadTrustStore(files: {
  trustFile?: string | undefined;
  crlFile?: string | undefined;
}): TrustStore {
  const anchors: ParsedCertificate[] = [];
  const intermediates: ParsedCertificate[] = [];
  const crls: ParsedCrl[] = [];
  try {
    if (files.trustFile !== undefined) {
      for (const pem of pemBlocks(readText(files.trustFile), 'CERTIFICATE')) {
        const c = parseCertificate(pem);
        (isSelfIssued(c) ? anchors : intermediates).push(c);
      }
    }
    if (files.crlFile !== undefined) {
      for (const pem of pemBlocks(readText(files.crlFile), 'X509 CRL')) crls.push(parseCrl(pem));
    }
  } catch (e) {
    if (isPkiError(e)) throw new YzError('LOGIN_CERT_INVALID', `trust store: ${e.code}`, { cause: e });
    throw e;
  }
  return { anchors, intermediates, crls };
}
