import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isNodeUnusable, isRetryableTransactionError, nextNode, parseDatabaseUrl } from '../../src/db/node-list.ts'

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
