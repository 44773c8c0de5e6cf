import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { httpCall } from '../src/client/http-call.ts'
import { RacingAgent } from '../src/client/racing-agent.ts'

// What racing buys on a lossy link is measured by eval:loss (variant ours-no-race); these check that the
// agent is a correct http.Agent: requests go through and keep their connection, failures end, not hang.

async function listening(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as AddressInfo).port
}

test('RacingAgent: racers that lose are closed, and requests go through on the winner, kept alive', { timeout: 20_000 }, async (t) => {
  const sockets = new Set<string>()
  let connections = 0
  const server = createServer((req, res) => {
    sockets.add(`${req.socket.remotePort}`)
    res.end('ok')
  })
  server.on('connection', () => connections++)
  const port = await listening(server)
  // 0 ms: a second racer starts before the first has connected, even on loopback.
  const agent = new RacingAgent({ keepAlive: true, maxSockets: 1, raceAfterMs: 0, racers: 3 })
  t.after(() => {
    agent.destroy()
    server.close()
  })
  for (let i = 0; i < 5; i++) {
    const res = await httpCall(`http://127.0.0.1:${port}/`, { agent })
    assert.equal(res.status, 200)
    assert.equal(res.text, 'ok')
  }
  assert.equal(sockets.size, 1, 'five requests, one connection')
  assert.ok(connections >= 2, `racers were started (${connections} connections)`)
  // Racers that connected after the winner were closed: the server holds one connection at the end.
  await new Promise((r) => setTimeout(r, 100))
  const open = await new Promise<number>((r, j) => server.getConnections((err, n) => (err ? j(err) : r(n))))
  assert.equal(open, 1)
})

test('RacingAgent: a refused connection fails the request once every racer has failed', { timeout: 20_000 }, async () => {
  const server = createServer()
  const port = await listening(server)
  await new Promise((r) => server.close(r))
  const agent = new RacingAgent({ keepAlive: true, maxSockets: 1, raceAfterMs: 50, racers: 3 })
  const started = Date.now()
  await assert.rejects(httpCall(`http://127.0.0.1:${port}/`, { agent, totalTimeoutMs: 10_000 }), /ECONNREFUSED/)
  assert.ok(Date.now() - started < 5_000, 'refused at once, not at the time limit')
  agent.destroy()
})
