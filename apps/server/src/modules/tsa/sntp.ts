import { createSocket } from 'node:dgram';
import { randomFillSync } from 'node:crypto';

/**
 * A minimal SNTP client (RFC 4330 / RFC 5905 packet format) to measure the system clock's offset against one
 * configured NTP server. One request, one answer, no state:
 *
 *   byte 0       LI (2 bits) | VN (3) | Mode (3): we send VN 4, mode 3 (client); the server answers mode 4
 *   byte 1       stratum (0 = kiss-o'-death: the server refuses)
 *   24..31       originate timestamp (server copies our transmit timestamp)
 *   32..39       receive timestamp T2 (server)
 *   40..47       transmit timestamp T3 (server); in our request: T1, here random bits so answers can't be forged
 *                by an off-path sender who does not see the request
 *   offset θ = ((T2 − T1) + (T3 − T4)) / 2,   delay δ = (T4 − T1) − (T3 − T2)
 */
export interface SntpResult {
  /** Server clock minus local clock, milliseconds. */
  offsetMs: number;
  /** Round-trip delay, milliseconds. */
  delayMs: number;
  stratum: number;
}

export class SntpError extends Error {
  constructor(
    readonly reason: 'timeout' | 'bad-response' | 'kiss-of-death' | 'unsynchronised' | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'SntpError';
  }
}

/** Seconds between 1900-01-01 (NTP era 0) and 1970-01-01. */
const NTP_EPOCH_OFFSET = 2_208_988_800;

function readTimestamp(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset);
  const fraction = buf.readUInt32BE(offset + 4);
  return (seconds - NTP_EPOCH_OFFSET) * 1000 + (fraction / 2 ** 32) * 1000;
}

/** Writes Unix ms as an NTP timestamp (era 0). Exported for test servers. */
export function writeNtpTimestamp(buf: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000);
  buf.writeUInt32BE((seconds + NTP_EPOCH_OFFSET) >>> 0, offset);
  buf.writeUInt32BE(Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32) >>> 0, offset + 4);
}

export async function querySntp(options: {
  host: string;
  port?: number;
  timeoutMs?: number;
  /** The local clock (Unix ms); injected so tests are deterministic. */
  now: () => number;
}): Promise<SntpResult> {
  const { host, now } = options;
  const port = options.port ?? 123;
  const timeoutMs = options.timeoutMs ?? 2000;
  const request = Buffer.alloc(48);
  request[0] = (0 << 6) | (4 << 3) | 3;
  // Our transmit timestamp is not read back as T1 (we keep T1 locally): random bits bind the answer to us.
  randomFillSync(request, 40, 8);
  const cookie = request.subarray(40, 48);
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    return await new Promise<SntpResult>((resolve, reject) => {
      let t1 = 0;
      const timer = setTimeout(
        () => reject(new SntpError('timeout', `no answer from ${host}:${port} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (e: SntpError): void => {
        clearTimeout(timer);
        reject(e);
      };
      socket.on('error', (e) => fail(new SntpError('network', e.message)));
      socket.on('message', (msg) => {
        const t4 = now();
        if (msg.length < 48) return; // not an NTP answer: keep waiting until the timeout
        if (!msg.subarray(24, 32).equals(cookie)) return; // not the answer to our request
        const mode = msg[0]! & 0x07;
        const leap = msg[0]! >> 6;
        const stratum = msg[1]!;
        if (mode !== 4 && mode !== 5) {
          fail(new SntpError('bad-response', `NTP answer with mode ${mode}`));
          return;
        }
        if (stratum === 0) {
          fail(
            new SntpError(
              'kiss-of-death',
              `NTP server refused (kiss code ${msg.subarray(12, 16).toString('latin1')})`,
            ),
          );
          return;
        }
        if (leap === 3 || stratum > 15) {
          fail(new SntpError('unsynchronised', 'the NTP server says it is not synchronised'));
          return;
        }
        const t2 = readTimestamp(msg, 32);
        const t3 = readTimestamp(msg, 40);
        if (t3 === -NTP_EPOCH_OFFSET * 1000) {
          fail(new SntpError('bad-response', 'NTP answer without a transmit timestamp'));
          return;
        }
        clearTimeout(timer);
        resolve({ offsetMs: (t2 - t1 + (t3 - t4)) / 2, delayMs: t4 - t1 - (t3 - t2), stratum });
      });
      t1 = now();
      socket.send(request, port, host, (e) => {
        if (e) fail(new SntpError('network', e.message));
      });
    });
  } finally {
    socket.close();
  }
}
