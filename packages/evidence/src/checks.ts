/** The list of checks a verification builds: each names the part it is about and a stable check name. */
export interface PackageCheck {
  /** A file name of the package (format.ts FILES), or `platform-root`. */
  part: string;
  /** Stable check name (see messages.ts CHECK_LABELS): `sm3`, `signature`, `signer-chain`, `inclusion`, … */
  check: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
}

export class Checks {
  readonly list: PackageCheck[] = [];

  /** Records a check; returns whether it passed. */
  add(part: string, check: string, ok: boolean | 'skip', detail: string): boolean {
    this.list.push({ part, check, status: ok === 'skip' ? 'skip' : ok ? 'pass' : 'fail', detail });
    return ok === true;
  }

  failedParts(): string[] {
    return [...new Set(this.list.filter((c) => c.status === 'fail').map((c) => c.part))];
  }
}
