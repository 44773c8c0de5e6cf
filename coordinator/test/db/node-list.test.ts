import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  FAILBACK_PROBE_MS, ON_PREFERRED, failbackState, failbackStep, isNodeReady, isNodeUnusable, isRetryableTransactionError, nextNode, parseDatabaseUrl,
  type FailbackEvent, type FailbackState,
} from '../../src/db/node-list.ts'

test('a DATABASE_URL with one host or a list of Galera nodes', { timeout: 5_000 }, () => {
  assert.deepEqual(parseDatabaseUrl('mysql://root@127.0.0.1:3306/test'), { nodes: [{ host: '127.0.0.1', port: 3306 }], user: 'root', password: '', database: 'test' })
  const t = parseDatabaseUrl('mariadb://hs:p%40ss@10.0.0.1,10.0.0.2:3307,[::1]:3308/hivesight')
  assert.deepEqual(t.nodes, [{ host: '10.0.0.1', port: 3306 }, { host: '10.0.0.2', port: 3307 }, { host: '::1', port: 3308 }])
  assert.equal(t.password, 'p@ss')
  assert.equal(parseDatabaseUrl('mysql://db').database, 'hivesight')
  assert.equal(parseDatabaseUrl('mysql://db').user, 'root')
  assert.throws(() => parseDatabaseUrl('postgres://x/y'), /must start with mysql:\/\//)
  assert.throws(() => parseDatabaseUrl('mysql://a:notaport/db'), /no usable host/)
})

test('which errors run the transaction again, which send the pool to another node', { timeout: 5_000 }, () => {
  for (const errno of [1213, 1205, 1047]) assert.equal(isRetryableTransactionError({ errno }), true, String(errno))
  assert.equal(isRetryableTransactionError({ errno: 1062 }), false, 'a duplicate key is an answer, not a retry')
  assert.equal(isRetryableTransactionError({ code: 'PROTOCOL_CONNECTION_LOST' }), false, 'a lost connection at COMMIT may have committed')
  assert.equal(isNodeUnusable({ errno: 1047, code: 'ER_UNKNOWN_COM_ERROR' }), true)
  assert.equal(isNodeUnusable({ code: 'ECONNREFUSED' }), true)
  assert.equal(isNodeUnusable({ errors: [{ code: 'ETIMEDOUT' }] }), true)
  assert.equal(isNodeUnusable({ errno: 1213 }), false, 'a certification failure is no reason to leave a node')
  assert.equal(isNodeUnusable(undefined), false)
})

test('the next node is round robin; one node is always itself', { timeout: 5_000 }, () => {
  assert.equal(nextNode(0, 3), 1)
  assert.equal(nextNode(2, 3), 0)
  assert.equal(nextNode(0, 1), 0)
})

test('a probed node is ready without Galera, or when Galera says primary and Synced', { timeout: 5_000 }, () => {
  const row = (Variable_name: string, Value: string) => ({ Variable_name, Value })
  assert.equal(isNodeReady([]), true, 'no wsrep at all (MySQL, or a MariaDB built without it)')
  assert.equal(isNodeReady([row('wsrep_on', 'OFF'), row('wsrep_ready', 'OFF')]), true, "Debian's MariaDB without Galera reads wsrep_ready OFF")
  assert.equal(isNodeReady([row('wsrep_on', 'ON'), row('wsrep_ready', 'ON'), row('wsrep_local_state', '4')]), true)
  assert.equal(isNodeReady([row('wsrep_on', 'ON'), row('wsrep_ready', 'OFF'), row('wsrep_local_state', '0')]), false, 'non-primary')
  assert.equal(isNodeReady([row('wsrep_on', 'ON'), row('wsrep_ready', 'ON'), row('wsrep_local_state', '2')]), false, 'donor')
  assert.equal(isNodeReady([row('WSREP_ON', 'on')]), false, 'Galera with no status rows is not known to be ready')
})

test('failback on a fake clock: probe node 0 every interval, start to start, and move back only after a probe found it ready', { timeout: 5_000 }, () => {
  const every = 10_000
  let s: FailbackState = ON_PREFERRED
  const on = (event: FailbackEvent, now: number) => (s = failbackState(s, event, now))
  assert.deepEqual(failbackStep(s, 0, every), { do: 'nothing' }, 'on node 0')
  on({ type: 'node-failed', node: 0, count: 3 }, 1_000)
  assert.deepEqual(s, { current: 1, since: 1_000, probe: 'none' })
  assert.deepEqual(failbackStep(s, 1_000, every), { do: 'wait', ms: 10_000 })
  assert.deepEqual(failbackStep(s, 10_999, every), { do: 'wait', ms: 1 })
  assert.deepEqual(failbackStep(s, 11_000, every), { do: 'probe' })
  on({ type: 'probe-started' }, 11_000)
  assert.deepEqual(failbackStep(s, 60_000, every), { do: 'nothing' }, 'never two probes at once, however long one takes')
  on({ type: 'probe-ended', ready: false }, 11_050)
  assert.equal(s.current, 1, 'a failed probe moves nothing')
  assert.deepEqual(failbackStep(s, 11_050, every), { do: 'wait', ms: 9_950 }, 'the next probe is an interval after the last one started')
  on({ type: 'node-failed', node: 1, count: 3 }, 15_000)
  assert.deepEqual(s, { current: 2, since: 11_000, probe: 'not-ready' }, 'moving on between the others keeps the schedule')
  assert.deepEqual(failbackStep(s, 21_000, every), { do: 'probe' })
  on({ type: 'probe-started' }, 21_000)
  on({ type: 'probe-ended', ready: true }, 21_020)
  assert.equal(s.current, 2, 'connections move only when the pool acts on the step')
  assert.deepEqual(failbackStep(s, 21_020, every), { do: 'move-back' })
  on({ type: 'moved-back' }, 21_020)
  assert.deepEqual(s, ON_PREFERRED)
  on({ type: 'node-failed', node: 2, count: 3 }, 21_030)
  assert.deepEqual(s, ON_PREFERRED, 'a connection handed out on node 2 before the move back fails late: no move')
})

test('failback edge cases: wrap-around, a late probe, one node, a clock that went back', { timeout: 5_000 }, () => {
  const away: FailbackState = { current: 2, since: 5_000, probe: 'running' }
  assert.deepEqual(failbackState(away, { type: 'node-failed', node: 2, count: 3 }, 6_000), ON_PREFERRED, 'round robin reaches node 0 again')
  assert.deepEqual(failbackState({ current: 1, since: 9_000, probe: 'none' }, { type: 'probe-ended', ready: true }, 9_500), { current: 1, since: 9_000, probe: 'none' }, 'a probe from an earlier round decides nothing')
  assert.deepEqual(failbackState(ON_PREFERRED, { type: 'node-failed', node: 0, count: 1 }, 1_000), ON_PREFERRED, 'one node: nothing to probe or move')
  assert.deepEqual(failbackStep({ current: 1, since: 50_000, probe: 'none' }, 1_000, FAILBACK_PROBE_MS), { do: 'wait', ms: FAILBACK_PROBE_MS })
  assert.equal(FAILBACK_PROBE_MS, 10_000)
})
