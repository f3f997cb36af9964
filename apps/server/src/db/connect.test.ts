import { describe, expect, it } from 'vitest';
import { assessMysql, assessPostgres, isUniqueViolation, toCount } from './connect.js';

describe('durability policy', () => {
  it.each([
    [{ fsync: 'on', synchronous_commit: 'on' }, 0],
    [{ fsync: 'on', synchronous_commit: 'remote_apply' }, 0],
    [{ fsync: 'on', synchronous_commit: 'local' }, 0],
    [{ fsync: 'off', synchronous_commit: 'on' }, 1],
    [{ fsync: 'on', synchronous_commit: 'off' }, 1],
    [{ fsync: 'off', synchronous_commit: 'off' }, 2],
  ])('PostgreSQL %j → %i refusals', (s, n) => {
    expect(assessPostgres(s).refuse).toHaveLength(n);
  });

  it.each([
    [{ innodb_flush_log_at_trx_commit: 1, sync_binlog: 0, log_bin: 0 }, 0, 0],
    [{ innodb_flush_log_at_trx_commit: 1, sync_binlog: 1, log_bin: 1 }, 0, 0],
    [{ innodb_flush_log_at_trx_commit: 1, sync_binlog: 0, log_bin: 1 }, 0, 1],
    [{ innodb_flush_log_at_trx_commit: 2, sync_binlog: 1, log_bin: 1 }, 1, 0],
    [{ innodb_flush_log_at_trx_commit: 0, sync_binlog: 0, log_bin: 0 }, 1, 0],
  ])('MySQL %j → %i refusals, %i warnings', (v, r, w) => {
    const verdict = assessMysql(v);
    expect(verdict.refuse).toHaveLength(r);
    expect(verdict.warn).toHaveLength(w);
  });
});

describe('driver normalisation', () => {
  it('count(*) from any driver is a number', () => {
    expect(toCount(3)).toBe(3);
    expect(toCount('42')).toBe(42);
    expect(toCount(7n)).toBe(7);
    expect(toCount(undefined)).toBe(0);
  });
  it('unique violations are recognised on each dialect', () => {
    expect(isUniqueViolation({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })).toBe(true);
    expect(isUniqueViolation({ code: '23505' })).toBe(true);
    expect(isUniqueViolation({ code: 'ER_DUP_ENTRY', errno: 1062 })).toBe(true);
    expect(isUniqueViolation({ code: '23503' })).toBe(false);
    expect(isUniqueViolation(new Error('x'))).toBe(false);
  });
});
