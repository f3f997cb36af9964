/**
 * Where the integrator keeps the tree: perfect-subtree nodes by (level, index). The server backs this with a
 * database table; {@link InMemoryNodeStore} serves tests and the CLI.
 */
import { LedgerError } from './errors.js';
import type { LogHasher } from './hash.js';
import { type NodeId, nodeKey } from './tree-math.js';

/** A perfect-subtree node to persist. */
export interface StoredNode {
  readonly id: NodeId;
  readonly hash: Uint8Array;
}

export interface NodeStore {
  /**
   * The hashes of `ids`, in the same order. A store that lacks a node should throw (or may answer short, which
   * the callers report as `LEDGER_NODE_MISSING`).
   */
  getNodes(ids: readonly NodeId[]): Promise<Uint8Array[]>;
}

/** Reads `ids` and checks the store's answer: one hash of the right size per id. */
export async function readNodes(
  hasher: LogHasher,
  store: NodeStore,
  ids: readonly NodeId[],
): Promise<Uint8Array[]> {
  if (ids.length === 0) return [];
  const hashes = await store.getNodes(ids);
  if (!Array.isArray(hashes) || hashes.length !== ids.length) {
    throw new LedgerError(
      'LEDGER_NODE_MISSING',
      `node store returned ${String(hashes?.length)} hashes for ${ids.length} nodes`,
    );
  }
  hashes.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== hasher.size) {
      const id = nodeKey(ids[i]!);
      throw new LedgerError('LEDGER_NODE_MISSING', `node store returned a malformed hash for node ${id}`, {
        context: { node: id },
      });
    }
  });
  return hashes;
}

/** A node store in a Map, for tests and the CLI. Nodes are write-once: rewriting one with a different hash throws. */
export class InMemoryNodeStore implements NodeStore {
  readonly #nodes = new Map<string, Uint8Array>();

  getNodes(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    try {
      return Promise.resolve(
        ids.map((id) => {
          const key = nodeKey(id);
          const hash = this.#nodes.get(key);
          if (hash === undefined) {
            throw new LedgerError('LEDGER_NODE_MISSING', `node ${key} is not in the store`, {
              context: { node: key },
            });
          }
          return hash.slice();
        }),
      );
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  putNodes(nodes: readonly StoredNode[]): void {
    for (const { id, hash } of nodes) {
      const key = nodeKey(id);
      const existing = this.#nodes.get(key);
      if (existing !== undefined && !sameBytes(existing, hash)) {
        throw new LedgerError('LEDGER_BAD_ARGUMENT', `node ${key} is already stored with a different hash`, {
          context: { node: key },
        });
      }
      this.#nodes.set(key, hash.slice());
    }
  }

  /** Number of stored nodes (about 2n for n leaves). */
  get count(): number {
    return this.#nodes.size;
  }

  /** Test hook: overwrite a node as an attacker with database access would. */
  tamper(id: NodeId, hash: Uint8Array): void {
    this.#nodes.set(nodeKey(id), hash.slice());
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
