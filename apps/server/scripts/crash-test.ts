/**
 * Crash test: the server (`node apps/server/dist/main.js`, a child process) under concurrent signed ingest
 * (`POST /api/v1/digests`) is killed with SIGKILL `--kills` times (default 5; 20 on demand), on SQLite and on
 * PostgreSQL. After every restart:
 *
 *  - every record that got a 2xx is present with the same fields, evidence hash and log index, and its log leaf
 *    holds exactly its evidence hash; the records of the last round re-verify intact (`POST …/{id}/verify`);
 *  - requests in flight at the kill are pushed again: each gets its first receipt (200) or is stored now (201);
 *  - the log's leaves are contiguous (0 … next_index − 1, one per record);
 *  - every checkpoint seen before is still stored unchanged, every checkpoint verifies with the platform key,
 *    and every new checkpoint is consistent with every earlier one (proofs from the server, checked with
 *    `@yizheng/ledger`'s verifier); every record acknowledged in the round is included under the latest one.
 *
 *     npm run build && npm run crash-test -- [--kills 20] [--dialects sqlite,postgres] [--clients 16]
 *
 * Prints one JSON line per dialect and exits 1 on the first violation.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sm2, sm3, type Sm2PublicKey } from '@yizheng/gm';
import { createSm2NoteVerifier, openCheckpoint, verifyConsistency, verifyInclusion } from '@yizheng/ledger';
import { nodeLogHasher } from '@yizheng/ledger/node';
import { sql } from 'kysely';
import {
  createWorkspace,
  freePort,
  openWorkspaceDb,
  provision,
  signedFetch,
  startServer,
  type HarnessDialect,
  type ServerProcess,
  type TestApplication,
  type Workspace,
} from './harness.js';

interface Pushed {
  body: string;
  serialNumber: string;
  value: string;
}

interface Receipt {
  id: string;
  evidenceHash: string;
  logIndex: number;
  serialNumber: string;
}

interface Acked {
  pushed: Pushed;
  receipt: Receipt;
  round: number;
}

interface CheckpointBody {
  origin: string;
  hash: 'sm3' | 'sha256';
  size: number;
  rootHash: string;
  note: string;
  publicKey: string;
}

class Violation extends Error {}

const count = (v: number | string | bigint | null | undefined): number => Number(v ?? 0);

function fail(message: string): never {
  throw new Violation(message);
}

/** Equal JSON objects regardless of key order (the server stores metadata canonically, keys sorted). */
function sameJson(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const sorted = (o: Record<string, unknown>): string =>
    JSON.stringify(Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))));
  return sorted(a) === sorted(b);
}

const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function digestBody(round: number, client: number, seq: number): Pushed {
  const serialNumber = `crash-${round}-${client}-${seq}-${randomBytes(3).toString('hex')}`;
  const value = Buffer.from(sm3(randomBytes(32))).toString('hex');
  const body = JSON.stringify({
    serialNumber,
    businessType: '门诊病历',
    department: { code: 'XNK', name: '心内科' },
    algorithm: 'sm3',
    value,
    metadata: { client: String(client), note: '崩溃测试', round: String(round), seq: String(seq) },
  });
  return { body, serialNumber, value };
}

async function push(
  base: string,
  app: TestApplication,
  p: Pushed,
): Promise<{ status: number; receipt?: Receipt }> {
  const r = await signedFetch(base, app, 'POST', '/api/v1/digests', p.body);
  if (r.status === 404) fail('POST /api/v1/digests answers 404: the evidence API is not in this build');
  if (r.status === 200 || r.status === 201)
    return { status: r.status, receipt: JSON.parse(r.text) as Receipt };
  return { status: r.status };
}

/** Concurrent clients push until the server dies; returns what was acknowledged and what was in flight. */
async function load(
  server: ServerProcess,
  app: TestApplication,
  round: number,
  clients: number,
  killAfterMs: number,
): Promise<{ acked: Acked[]; inFlight: Pushed[]; rejected: number }> {
  const acked: Acked[] = [];
  const inFlight: Pushed[] = [];
  let rejected = 0;
  let dead = false;
  const worker = async (client: number): Promise<void> => {
    for (let seq = 0; !dead; seq++) {
      const p = digestBody(round, client, seq);
      try {
        const r = await push(server.base, app, p);
        if (r.receipt !== undefined) acked.push({ pushed: p, receipt: r.receipt, round });
        else rejected++;
      } catch (e) {
        if (e instanceof Violation) throw e;
        inFlight.push(p); // connection reset by the kill: unknown outcome
        return;
      }
    }
  };
  const workers = Array.from({ length: clients }, (_, c) => worker(c));
  await sleep(killAfterMs);
  dead = true;
  await server.kill9();
  await Promise.all(workers);
  return { acked, inFlight, rejected };
}

async function waitForCheckpoint(
  server: ServerProcess,
  app: TestApplication,
  size: number,
): Promise<CheckpointBody> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await signedFetch(server.base, app, 'GET', '/api/v1/log/checkpoint');
    if (r.status === 200) {
      const c = JSON.parse(r.text) as CheckpointBody;
      if (c.size >= size) return c;
    } else if (r.status !== 503) {
      fail(`GET /api/v1/log/checkpoint → ${r.status} ${r.text}`);
    }
    if (Date.now() > deadline) fail(`no checkpoint of size ≥ ${size} within 60 s`);
    await sleep(100);
  }
}

async function checkRecords(
  server: ServerProcess,
  app: TestApplication,
  acked: readonly Acked[],
  verifyFrom: number,
): Promise<void> {
  const queue = [...acked];
  const verify = new Set(acked.slice(verifyFrom));
  const check = async (): Promise<void> => {
    for (let a = queue.pop(); a !== undefined; a = queue.pop()) {
      const r = await signedFetch(server.base, app, 'GET', `/api/v1/digests/${a.receipt.id}`);
      if (r.status !== 200) fail(`acknowledged record ${a.receipt.id} → ${r.status} ${r.text}`);
      const d = JSON.parse(r.text) as {
        id: string;
        serialNumber: string;
        businessType: string | null;
        department: { code: string | null; name: string | null };
        digest: { algorithm: string; value: string } | null;
        metadata: Record<string, unknown>;
        evidenceHash: string;
        logIndex: number;
      };
      const sent = JSON.parse(a.pushed.body) as { metadata: Record<string, unknown> };
      const same =
        d.id === a.receipt.id &&
        d.serialNumber === a.pushed.serialNumber &&
        d.businessType === '门诊病历' &&
        d.department.name === '心内科' &&
        d.digest?.algorithm === 'sm3' &&
        d.digest.value.toLowerCase() === a.pushed.value &&
        sameJson(d.metadata, sent.metadata) &&
        d.evidenceHash === a.receipt.evidenceHash &&
        d.logIndex === a.receipt.logIndex;
      if (!same) fail(`record ${a.receipt.id} differs from what was acknowledged: ${r.text}`);
      if (verify.has(a)) {
        // The server's own re-verification: stored bytes ↔ evidence hash ↔ log leaf ↔ inclusion proof.
        const v = await signedFetch(server.base, app, 'POST', `/api/v1/digests/${a.receipt.id}/verify`);
        const report = JSON.parse(v.text) as { intact?: boolean; tampered?: string[] };
        if (v.status !== 200 || report.intact !== true) {
          fail(`verify of acknowledged record ${a.receipt.id} → ${v.status} ${v.text.slice(0, 500)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, () => check()));
}

async function checkLog(ws: Workspace, acked: readonly Acked[]): Promise<{ leaves: number }> {
  const db = await openWorkspaceDb(ws);
  try {
    const state = await db.kysely.selectFrom('log_state').select('next_index').executeTakeFirstOrThrow();
    const agg = await db.kysely
      .selectFrom('log_leaves')
      .select((eb) => [eb.fn.countAll().as('n'), eb.fn.min('idx').as('lo'), eb.fn.max('idx').as('hi')])
      .executeTakeFirstOrThrow();
    const n = count(agg.n);
    const next = Number(state.next_index);
    if (n !== next) fail(`${n} leaves but next_index ${next}`);
    if (n > 0 && (Number(agg.lo) !== 0 || Number(agg.hi) !== n - 1)) {
      fail(`leaf indices are not contiguous: ${String(agg.lo)}…${String(agg.hi)} for ${n} leaves`);
    }
    // One evidence record per leaf (the evidence engineer's table; skipped if this build has none).
    const records = await sql<{ n: number | string }>`SELECT count(*) AS n FROM evidence`
      .execute(db.kysely)
      .then((r) => count(r.rows[0]?.n))
      .catch(() => undefined);
    if (records !== undefined && records !== n) fail(`${records} evidence records but ${n} log leaves`);
    for (let i = 0; i < acked.length; i += 500) {
      const part = acked.slice(i, i + 500);
      const rows = await db.kysely
        .selectFrom('log_leaves')
        .select(['idx', 'entry'])
        .where(
          'idx',
          'in',
          part.map((a) => a.receipt.logIndex),
        )
        .execute();
      const byIdx = new Map(rows.map((r) => [Number(r.idx), Buffer.from(r.entry).toString('hex')]));
      for (const a of part) {
        if (byIdx.get(a.receipt.logIndex) !== a.receipt.evidenceHash.toLowerCase()) {
          fail(`leaf ${a.receipt.logIndex} does not hold the evidence hash of record ${a.receipt.id}`);
        }
      }
    }
    return { leaves: n };
  } finally {
    await db.close();
  }
}

interface CheckpointState {
  verifier?: ReturnType<typeof createSm2NoteVerifier>;
  hasher?: ReturnType<typeof nodeLogHasher>;
  seen: Map<number, { note: string; root: Uint8Array }>;
}

async function checkCheckpoints(
  ws: Workspace,
  server: ServerProcess,
  app: TestApplication,
  state: CheckpointState,
  latest: CheckpointBody,
  newlyAcked: readonly Acked[],
): Promise<{ checkpoints: number; consistencyProofs: number }> {
  if (state.verifier === undefined) {
    const publicKey: Sm2PublicKey = sm2.importPublicKey(latest.publicKey);
    state.verifier = createSm2NoteVerifier({ sm2, sm3 }, { name: latest.origin, publicKey });
    state.hasher = nodeLogHasher(latest.hash);
  }
  const verifier = state.verifier;
  const hasher = state.hasher!;
  const db = await openWorkspaceDb(ws);
  let rows: { size: number; note: string }[];
  try {
    rows = (
      await db.kysely.selectFrom('log_checkpoints').select(['size', 'note']).orderBy('size').execute()
    ).map((r) => ({ size: Number(r.size), note: r.note }));
  } finally {
    await db.close();
  }
  const stored = new Map(rows.map((r) => [r.size, r.note]));
  for (const [size, old] of state.seen) {
    if (stored.get(size) !== old.note) fail(`checkpoint ${size} changed or vanished after the restart`);
  }
  const fresh: { size: number; root: Uint8Array; note: string }[] = [];
  for (const r of rows) {
    if (state.seen.has(r.size)) continue;
    const { checkpoint } = openCheckpoint(r.note, [verifier], { origin: latest.origin });
    if (checkpoint.size !== r.size) fail(`checkpoint row ${r.size} signs size ${checkpoint.size}`);
    fresh.push({ size: r.size, root: checkpoint.rootHash, note: r.note });
  }
  let proofs = 0;
  const earlier = [...state.seen.entries()].map(([size, v]) => ({ size, root: v.root }));
  for (const c of fresh) {
    for (const e of earlier) {
      const [m, n, rm, rn] =
        e.size <= c.size ? [e.size, c.size, e.root, c.root] : [c.size, e.size, c.root, e.root];
      const r = await signedFetch(
        server.base,
        app,
        'GET',
        `/api/v1/log/proofs/consistency?from=${m}&to=${n}`,
      );
      if (r.status !== 200) fail(`consistency ${m} → ${n}: ${r.status} ${r.text}`);
      const body = JSON.parse(r.text) as { proof: string[] };
      try {
        verifyConsistency(hasher, m, n, body.proof.map(fromB64), rm, rn);
      } catch (err) {
        fail(`checkpoint ${n} is not consistent with checkpoint ${m}: ${(err as Error).message}`);
      }
      proofs++;
    }
    earlier.push({ size: c.size, root: c.root });
  }
  for (const c of fresh) state.seen.set(c.size, { note: c.note, root: c.root });

  // Every record acknowledged since the last check is included under the latest checkpoint.
  const top = rows.at(-1);
  if (top !== undefined) {
    const root = state.seen.get(top.size)!.root;
    const queue = newlyAcked.filter((a) => a.receipt.logIndex < top.size);
    const check = async (): Promise<void> => {
      for (let a = queue.pop(); a !== undefined; a = queue.pop()) {
        const url = `/api/v1/log/proofs/inclusion?index=${a.receipt.logIndex}&size=${top.size}`;
        const r = await signedFetch(server.base, app, 'GET', url);
        if (r.status !== 200) fail(`${url}: ${r.status} ${r.text}`);
        const body = JSON.parse(r.text) as { proof: string[] };
        const leaf = hasher.hashLeaf(new Uint8Array(Buffer.from(a.receipt.evidenceHash, 'hex')));
        try {
          verifyInclusion(hasher, a.receipt.logIndex, top.size, leaf, body.proof.map(fromB64), root);
        } catch (err) {
          fail(
            `record ${a.receipt.id} is not included under checkpoint ${top.size}: ${(err as Error).message}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, () => check()));
  }
  return { checkpoints: rows.length, consistencyProofs: proofs };
}

async function runDialect(
  dialect: HarnessDialect,
  kills: number,
  clients: number,
): Promise<Record<string, unknown>> {
  const ws = await createWorkspace(dialect);
  const started = Date.now();
  let server: ServerProcess | undefined;
  try {
    const app = await provision(ws, 'P-CRASH');
    const port = await freePort();
    const env = { YIZHENG_LOG_CHECKPOINT_INTERVAL_MS: '250' };
    const acked: Acked[] = [];
    const state: CheckpointState = { seen: new Map() };
    let inFlight: Pushed[] = [];
    let repushed = 0;
    let rejected = 0;
    let proofs = 0;
    let leaves = 0;
    let checkpoints = 0;
    let checkedUpTo = 0;
    for (let round = 0; round <= kills; round++) {
      server = await startServer(ws, port, env);
      // Requests in flight at the last kill: their outcome is unknown, so push them again.
      for (const p of inFlight) {
        const r = await push(server.base, app, p);
        if (r.receipt === undefined) fail(`re-push of ${p.serialNumber} after the restart → ${r.status}`);
        if (r.receipt.serialNumber !== p.serialNumber)
          fail(`re-push of ${p.serialNumber} got another record`);
        acked.push({ pushed: p, receipt: r.receipt, round });
        repushed++;
      }
      inFlight = [];
      const log = await checkLog(ws, acked);
      leaves = log.leaves;
      if (leaves !== acked.length) fail(`${leaves} leaves for ${acked.length} acknowledged records`);
      if (leaves > 0) {
        // The restarted integrator and publisher catch up: a checkpoint covers every record.
        const latest = await waitForCheckpoint(server, app, leaves);
        await checkRecords(server, app, acked, checkedUpTo);
        const c = await checkCheckpoints(ws, server, app, state, latest, acked.slice(checkedUpTo));
        checkedUpTo = acked.length;
        proofs += c.consistencyProofs;
        checkpoints = c.checkpoints;
      }
      process.stderr.write(
        `[${dialect}] round ${round}: ${acked.length} records, ${leaves} leaves, ${checkpoints} checkpoints ok\n`,
      );
      if (round === kills) break;
      const round$ = await load(server, app, round, clients, 400 + Math.floor(Math.random() * 1_200));
      acked.push(...round$.acked);
      inFlight = round$.inFlight;
      rejected += round$.rejected;
      if (round$.rejected > 0) fail(`${round$.rejected} pushes were rejected (4xx/5xx) in round ${round}`);
    }
    await server?.stop();
    server = undefined;
    return {
      test: 'crash',
      dialect,
      kills,
      clients,
      acknowledged: acked.length,
      repushedAfterKill: repushed,
      rejected,
      leaves,
      checkpoints,
      consistencyProofs: proofs,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      ok: true,
    };
  } catch (e) {
    if (server !== undefined) process.stderr.write(`server stderr:\n${server.stderr()}\n`);
    throw e;
  } finally {
    await server?.kill9();
    await ws.remove();
  }
}

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: process.env.YIZHENG_CRASH_KILLS ?? '5' },
    dialects: { type: 'string', default: 'sqlite,postgres' },
    clients: { type: 'string', default: '16' },
  },
});
const kills = Number(values.kills);
const clients = Number(values.clients);
if (!Number.isInteger(kills) || kills < 1 || !Number.isInteger(clients) || clients < 1) {
  process.stderr.write('usage: crash-test [--kills N] [--clients N] [--dialects sqlite,postgres]\n');
  process.exit(2);
}
let failed = false;
for (const d of values.dialects.split(',')) {
  if (d !== 'sqlite' && d !== 'postgres') {
    process.stderr.write(`unknown dialect ${d}\n`);
    process.exit(2);
  }
  try {
    process.stdout.write(`${JSON.stringify(await runDialect(d, kills, clients))}\n`);
  } catch (e) {
    failed = true;
    process.stdout.write(
      `${JSON.stringify({ test: 'crash', dialect: d, ok: false, error: (e as Error).message })}\n`,
    );
  }
}
process.exit(failed ? 1 : 0);
