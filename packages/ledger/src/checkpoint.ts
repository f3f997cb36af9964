/**
 * Signed checkpoints in the C2SP formats (c2sp.org/tlog-checkpoint inside c2sp.org/signed-note):
 *
 *     <origin>\n
 *     <tree size, decimal>\n
 *     <root hash, base64>\n
 *     [<extension line>\n]*
 *     \n
 *     — <key name> <base64(key ID (4 bytes) || signature)>\n      (one or more)
 *
 * The signed message is the note text: every body line including its newline, without the blank separator.
 * Parsing is strict — one accepted encoding per checkpoint, bounded sizes — and every failure is a
 * `LEDGER_CHECKPOINT_INVALID` or `LEDGER_CHECKPOINT_SIGNATURE`. Signing and verification are injected
 * ({@link NoteSigner}, {@link NoteVerifier}); see `sm2-note.ts` for the platform's SM2 keys.
 */
import { bytesEqual, concatBytes, decodeBase64, encodeBase64 } from './bytes.js';
import { LedgerError } from './errors.js';

/** A log checkpoint: the tree size and root hash the log commits to, under its origin. */
export interface Checkpoint {
  /** The log's identity, a schema-less URL such as `yizheng.example-hospital.cn/log`. */
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Optional extension lines after the root hash (non-empty, opaque). */
  readonly extensions?: readonly string[];
}

/** Produces signature lines for notes. `keyId` is the 4-byte key ID written before the signature. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Checks signature lines whose key name and key ID both match. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The note text, ending in a newline: the signed message. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** Names of the trusted keys whose signatures verified. */
  readonly verifiedBy: readonly string[];
}

export interface CheckpointOptions {
  /** Length of the root hash in bytes (32 for SM3 and SHA-256). */
  readonly hashSize?: number;
  /** When set, a checkpoint from any other origin is rejected. */
  readonly origin?: string;
}

/** Limits. C2SP signed-note requires accepting at least 16 signatures; post-quantum ones are up to ~5 kB. */
export const CHECKPOINT_LIMITS = {
  maxNoteBytes: 256 * 1024,
  maxSignatures: 64,
  maxOriginBytes: 1024,
  maxExtensionLines: 64,
} as const;

const EM_DASH_SPACE = '\u2014 ';
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
// Unicode spaces (White_Space) and '+' are not allowed in key names.
const BAD_NAME_CHAR = /[\s+]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const encoder = new TextEncoder();

/** The note text (body) of a checkpoint. */
export function formatCheckpoint(checkpoint: Checkpoint, options: CheckpointOptions = {}): string {
  const hashSize = options.hashSize ?? 32;
  const { origin, size, rootHash } = checkpoint;
  const extensions = checkpoint.extensions ?? [];
  if (
    typeof origin !== 'string' ||
    origin === '' ||
    hasControl(origin) ||
    utf8Length(origin) > CHECKPOINT_LIMITS.maxOriginBytes
  ) {
    throw invalid('origin must be a non-empty line of at most 1024 bytes');
  }
  if (!Number.isSafeInteger(size) || size < 0) throw invalid('size must be a non-negative safe integer');
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== hashSize) {
    throw invalid(`root hash must be ${hashSize} bytes`);
  }
  if (extensions.length > CHECKPOINT_LIMITS.maxExtensionLines) throw invalid('too many extension lines');
  for (const line of extensions) {
    if (typeof line !== 'string' || line === '' || hasControl(line)) {
      throw invalid('extension lines must be non-empty lines');
    }
  }
  return [origin, String(size), encodeBase64(rootHash), ...extensions].map((l) => `${l}\n`).join('');
}

/** Parses the note text of a checkpoint (no signatures). */
export function parseCheckpoint(text: string, options: CheckpointOptions = {}): Checkpoint {
  const hashSize = options.hashSize ?? 32;
  if (typeof text !== 'string' || !text.endsWith('\n'))
    throw invalid('checkpoint text must end with a newline');
  checkCharacters(text);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalid('checkpoint needs origin, size and root hash lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '' || utf8Length(origin) > CHECKPOINT_LIMITS.maxOriginBytes)
    throw invalid('bad origin line');
  if (options.origin !== undefined && origin !== options.origin) {
    throw invalid(
      `checkpoint is for origin ${JSON.stringify(origin)}, want ${JSON.stringify(options.origin)}`,
    );
  }
  if (!DECIMAL.test(sizeLine)) throw invalid('tree size is not a canonical decimal number');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw invalid('tree size is larger than 2^53 - 1');
  const rootHash = decodeBase64(rootLine);
  if (rootHash === undefined) throw invalid('root hash is not canonical base64');
  if (rootHash.length !== hashSize) throw invalid(`root hash is ${rootHash.length} bytes, want ${hashSize}`);
  if (extensions.length > CHECKPOINT_LIMITS.maxExtensionLines) throw invalid('too many extension lines');
  if (extensions.some((l) => l === '')) throw invalid('empty line inside the checkpoint body');
  return extensions.length > 0 ? { origin, size, rootHash, extensions } : { origin, size, rootHash };
}

/** Splits a signed note into its text and signature lines, strictly (C2SP signed-note). */
export function parseSignedNote(note: string | Uint8Array): SignedNote {
  const str = decodeNote(note);
  if (!str.endsWith('\n')) throw invalid('a signed note ends with a newline');
  checkCharacters(str);
  const split = str.lastIndexOf('\n\n');
  if (split < 0) throw invalid('no blank line between the note text and its signatures');
  const text = str.slice(0, split + 1);
  const block = str.slice(split + 2, -1);
  if (text === '\n' || block === '') throw invalid('note text or signature block is empty');
  const lines = block.split('\n');
  if (lines.length > CHECKPOINT_LIMITS.maxSignatures) throw invalid('too many signatures');
  const seen = new Set<string>();
  const signatures = lines.map((line) => {
    if (!line.startsWith(EM_DASH_SPACE)) throw invalid('signature lines start with an em dash and a space');
    const parts = line.slice(EM_DASH_SPACE.length).split(' ');
    if (parts.length !== 2) throw invalid('a signature line is "— <name> <base64>"');
    const [name, b64] = parts as [string, string];
    if (!isKeyName(name)) throw invalid('bad key name on a signature line');
    const raw = decodeBase64(b64);
    if (raw === undefined || raw.length < 5)
      throw invalid('signature is not canonical base64 of key ID and signature');
    const keyId = raw.slice(0, 4);
    const key = `${name} ${encodeBase64(keyId)}`;
    if (seen.has(key)) throw invalid(`two signatures by the same key ${name}`);
    seen.add(key);
    return { name, keyId, signature: raw.slice(4) };
  });
  return { text, signatures };
}

/** Signs a checkpoint with every signer; returns the signed note. */
export function signCheckpoint(
  checkpoint: Checkpoint,
  signers: readonly NoteSigner[],
  options: CheckpointOptions = {},
): string {
  const text = formatCheckpoint(checkpoint, options);
  if (signers.length === 0 || signers.length > CHECKPOINT_LIMITS.maxSignatures) {
    throw new LedgerError('LEDGER_BAD_ARGUMENT', 'a checkpoint needs between 1 and 64 signers');
  }
  const message = encoder.encode(text);
  const lines = signers.map((signer) => {
    if (!isKeyName(signer.name) || !(signer.keyId instanceof Uint8Array) || signer.keyId.length !== 4) {
      throw new LedgerError(
        'LEDGER_BAD_ARGUMENT',
        `signer ${JSON.stringify(signer.name)} needs a valid name and a 4-byte key ID`,
      );
    }
    const sig = signer.sign(message);
    if (!(sig instanceof Uint8Array) || sig.length === 0) {
      throw new LedgerError('LEDGER_BAD_ARGUMENT', `signer ${signer.name} produced no signature`);
    }
    return `${EM_DASH_SPACE}${signer.name} ${encodeBase64(concatBytes(signer.keyId, sig))}\n`;
  });
  const note = `${text}\n${lines.join('')}`;
  if (utf8Length(note) > CHECKPOINT_LIMITS.maxNoteBytes) throw invalid('signed note is too large');
  return note;
}

/**
 * Parses a signed note and verifies its signatures (C2SP signed-note): signatures from unknown keys (name and key
 * ID not both matching a verifier) are ignored; a signature from a known key must verify; at least one must.
 * Returns the note text and the names of the keys that verified it.
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): { readonly text: string; readonly verifiedBy: readonly string[] } {
  const { text, signatures } = parseSignedNote(note);
  const message = encoder.encode(text);
  const verifiedBy: string[] = [];
  for (const sig of signatures) {
    const verifier = verifiers.find((v) => v.name === sig.name && bytesEqual(v.keyId, sig.keyId));
    if (verifier === undefined) continue;
    let ok = false;
    let cause: unknown;
    try {
      ok = verifier.verify(message, sig.signature);
    } catch (e) {
      cause = e;
    }
    if (!ok) {
      throw new LedgerError('LEDGER_CHECKPOINT_SIGNATURE', `signature by ${sig.name} does not verify`, {
        cause,
        context: { key: sig.name },
      });
    }
    verifiedBy.push(sig.name);
  }
  if (verifiedBy.length === 0) {
    throw new LedgerError('LEDGER_CHECKPOINT_SIGNATURE', 'no signature by a trusted key', {
      context: { signatures: signatures.map((s) => s.name).join(',') },
    });
  }
  return { text, verifiedBy };
}

/** Verifies a signed checkpoint ({@link openNote}) and parses its text ({@link parseCheckpoint}). */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: CheckpointOptions = {},
): OpenedCheckpoint {
  const { text, verifiedBy } = openNote(note, verifiers);
  return { checkpoint: parseCheckpoint(text, options), verifiedBy };
}

function decodeNote(note: string | Uint8Array): string {
  if (typeof note === 'string') {
    if (note.length > CHECKPOINT_LIMITS.maxNoteBytes || utf8Length(note) > CHECKPOINT_LIMITS.maxNoteBytes) {
      throw invalid('signed note is too large');
    }
    if (LONE_SURROGATE.test(note)) throw invalid('signed note is not valid Unicode');
    return note;
  }
  if (!(note instanceof Uint8Array)) throw invalid('a signed note is a string or bytes');
  if (note.length > CHECKPOINT_LIMITS.maxNoteBytes) throw invalid('signed note is too large');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch (e) {
    throw new LedgerError('LEDGER_CHECKPOINT_INVALID', 'signed note is not valid UTF-8', { cause: e });
  }
}

function isKeyName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !BAD_NAME_CHAR.test(name) && !hasControl(name);
}

/** Control characters below U+0020 other than newline are not allowed anywhere in a note. */
function checkCharacters(text: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw invalid('control character in a note');
  if (text.charCodeAt(0) === 0xfeff) throw invalid('byte order mark at the start of a note');
}

function hasControl(line: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f]/.test(line);
}

function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

function invalid(message: string): LedgerError {
  return new LedgerError('LEDGER_CHECKPOINT_INVALID', message);
}
