import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DelayProxy, forwardAt, parseRoute } from '../src/hosts/delay-proxy.ts'
import { waitFor } from '../src/hosts/sh.ts'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const LOCAL = '127.0.0.1'

/**
 * Closers for everything the tests open, run again in after(): a test that times out never reaches its
 * finally, and what it left open would keep this file running for ever (node 20 has no --test-force-exit).
 */
const leftOpen = new Set<() => unknown>()
function closeAtEnd<T>(thing: T, close: (t: T) => unknown): T {
  leftOpen.add(() => close(thing))
  return thing
}
after(async () => {
  await Promise.all([...leftOpen].map((c) => c()))
})

/** A target server; its sockets are kept so a test can act on them and nothing outlives the test. */
async function target(onSocket: (s: net.Socket) => void): Promise<{ port: number; sockets: net.Socket[]; close(): Promise<void> }> {
  const sockets: net.Socket[] = []
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s)
    s.on('error', () => {})
    onSocket(s)
  })
  await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve))
  return closeAtEnd({
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }, (t) => t.close())
}

/** Echoes what it reads, and ends when the client has ended (pipe() does both). */
const echo = () => target((s) => s.pipe(s))

async function connect(port: number): Promise<net.Socket> {
  const s = closeAtEnd(net.connect({ host: LOCAL, port }), (c) => c.destroy())
  s.setNoDelay(true)
  await once(s, 'connect')
  return s
}

/** One byte there and back; ms. */
async function roundTrip(s: net.Socket): Promise<number> {
  const start = performance.now()
  const back = once(s, 'data')
  s.write('x')
  await back
  return performance.now() - start
}

async function proxyTo(port: number): Promise<{ proxy: DelayProxy; port: number }> {
  const proxy = closeAtEnd(new DelayProxy(LOCAL, [{ listenPort: 0, targetHost: LOCAL, targetPort: port }]), (p) => p.close())
  const [listening] = await proxy.listen()
  return { proxy, port: listening! }
}

/** Not events.once: that rejects on 'error', and a reset is what some tests expect. */
const closed = (s: net.Socket) => new Promise<void>((resolve) => (s.destroyed && s.closed ? resolve() : s.once('close', () => resolve())))

test('forwardAt: base delay plus jitter in [0, jitter), never before the previous chunk, 0 passes through', { timeout: 5_000 }, () => {
  const d = { ms: 60, jitterMs: 20 }
  assert.equal(forwardAt(1000, d, 0, 0), 1060)
  assert.ok(forwardAt(1000, d, 0, 0.999999) < 1080)
  assert.ok(forwardAt(1000, d, 0, 0.999999) > 1079)
  // A chunk that drew less jitter than the one before it waits for it.
  assert.equal(forwardAt(1001, d, 1075, 0), 1075)
  let previous = 0
  for (let t = 0; t < 1000; t += 3) {
    const at = forwardAt(t, d, previous, Math.random())
    assert.ok(at >= previous && at >= t + 60 && at < t + 80 + 3)
    previous = at
  }
  assert.equal(forwardAt(500, { ms: 0, jitterMs: 0 }, 0, 0.7), 500)
  assert.equal(forwardAt(500, { ms: 0, jitterMs: 0 }, 520, 0.7), 520)
})

test('parseRoute: <listenPort>=<targetHost>:<targetPort>', { timeout: 5_000 }, () => {
  assert.deepEqual(parseRoute('3306=10.77.0.11:3306'), { listenPort: 3306, targetHost: '10.77.0.11', targetPort: 3306 })
  assert.deepEqual(parseRoute('0=localhost:80'), { listenPort: 0, targetHost: 'localhost', targetPort: 80 })
  for (const bad of ['3306', '3306=10.77.0.11', 'x=h:1', '70000=h:1', '1=h:0', '1=h:99999']) assert.throws(() => parseRoute(bad), /bad route/)
})

test('delay: a round trip takes ≥ 120 ms with 60 ms each way, little with 0; changed at runtime', { timeout: 15_000 }, async () => {
  const server = await echo()
  const { proxy, port } = await proxyTo(server.port)
  try {
    const s = await connect(port)
    const trips = async (n: number) => {
      const r: number[] = []
      for (let i = 0; i < n; i++) r.push(await roundTrip(s))
      return r
    }
    const fast = await trips(5)
    proxy.setDelay(60, 0)
    const slow = await trips(5)
    proxy.setDelay(0, 0)
    const fastAgain = await trips(5)
    assert.ok(Math.min(...fast) < 20, `no delay: ${fast}`)
    assert.ok(Math.min(...slow) >= 120, `60 ms each way: ${slow}`)
    assert.ok(Math.max(...slow) < 400, `60 ms each way: ${slow}`)
    assert.ok(Math.min(...fastAgain) < 20, `back to no delay: ${fastAgain}`)
    assert.throws(() => proxy.setDelay(-1, 0), /bad delay/)
    s.end()
    await closed(s)
    await waitFor('the proxy to drop the connection', 2_000, () => proxy.openConnections === 0, 10)
  } finally {
    await proxy.close()
    await server.close()
  }
})

test('2 MB with jitter arrives byte-identical and in order, and the half-close goes through', { timeout: 20_000 }, async () => {
  const server = await echo()
  const { proxy, port } = await proxyTo(server.port)
  try {
    proxy.setDelay(5, 20)
    const s = await connect(port)
    const payload = randomBytes(2 << 20)
    const received: Buffer[] = []
    s.on('data', (c: Buffer) => received.push(c))
    // Many writes, so many chunks each with its own jitter.
    for (let i = 0; i < payload.length; i += 16_384) s.write(payload.subarray(i, i + 16_384))
    s.end()
    await once(s, 'end')
    assert.ok(Buffer.concat(received).equals(payload), 'the echo differs from what was sent')
    await closed(s)
    await waitFor('the proxy to drop the connection', 2_000, () => proxy.openConnections === 0, 10)
  } finally {
    await proxy.close()
    await server.close()
  }
})

test('backpressure: a target that stops reading stalls the client, and the proxy holds little', { timeout: 30_000 }, async () => {
  const server = await target((s) => s.pause())
  const { proxy, port } = await proxyTo(server.port)
  try {
    const s = await connect(port)
    const payload = randomBytes(64 << 20)
    s.write(payload)
    // Until the stall has reached the client: its own buffer stops shrinking.
    let last = -1
    await waitFor('the client to stall', 10_000, () => {
      const now = s.writableLength
      const stalled = now === last && now > 0
      last = now
      return stalled
    }, 300)
    assert.ok(proxy.bufferedBytes < 3 << 20, `the proxy holds ${proxy.bufferedBytes} bytes`)
    const hash = createHash('sha256')
    let got = 0
    const t = server.sockets[0]!
    t.on('data', (c: Buffer) => {
      hash.update(c)
      got += c.length
    })
    t.resume()
    await waitFor('all of it to arrive once the target reads', 15_000, () => got >= payload.length, 50)
    assert.equal(got, payload.length)
    assert.equal(hash.digest('hex'), createHash('sha256').update(payload).digest('hex'))
    s.destroy()
  } finally {
    await proxy.close()
    await server.close()
  }
})

test('close: the server ending, resetting or being unreachable closes the client; the client ending or resetting reaches the server', { timeout: 15_000 }, async () => {
  const byeServer = await target((s) => s.end('bye'))
  const resetServer = await target((s) => s.resetAndDestroy())
  const quietServer = await target(() => {})
  const routes = [byeServer.port, resetServer.port, quietServer.port, 1].map((p) => ({ listenPort: 0, targetHost: LOCAL, targetPort: p }))
  const proxy = closeAtEnd(new DelayProxy(LOCAL, routes), (p) => p.close())
  try {
    const [bye, reset, quiet, nowhere] = await proxy.listen()
    const accepted = (n: number) => waitFor('the target to accept', 2_000, () => quietServer.sockets.length === n, 10)
    proxy.setDelay(30, 10)
    // Ended: the data, then the FIN (the client answers it with its own, as sockets do by default).
    const a = await connect(bye!)
    let text = ''
    a.on('data', (c: Buffer) => (text += c.toString()))
    await once(a, 'end')
    assert.equal(text, 'bye')
    await closed(a)
    // Reset, and unreachable (port 1): the client is reset or closed, and sees no data.
    for (const p of [reset!, nowhere!]) {
      const b = closeAtEnd(net.connect({ host: LOCAL, port: p }), (c) => c.destroy())
      b.on('error', () => {})
      await closed(b)
    }
    // The client gone (its FIN): the target reads the end; once it ends too, all of it closes.
    const c = await connect(quiet!)
    await accepted(1)
    c.destroy()
    await once(quietServer.sockets[0]!, 'end')
    quietServer.sockets[0]!.end()
    await closed(quietServer.sockets[0]!)
    // The client reset: so is the target's socket.
    const d = await connect(quiet!)
    d.on('error', () => {})
    await accepted(2)
    const reached = new Promise<string | undefined>((resolve) => quietServer.sockets[1]!.once('error', (e: NodeJS.ErrnoException) => resolve(e.code)))
    d.resetAndDestroy()
    assert.equal(await reached, 'ECONNRESET')
    await waitFor('the proxy to drop every connection', 2_000, () => proxy.openConnections === 0, 10)
  } finally {
    await proxy.close()
    await Promise.all([byeServer, resetServer, quietServer].map((s) => s.close()))
  }
})

test('close(): stops listening and closes open connections, even with data held', { timeout: 10_000 }, async () => {
  const server = await echo()
  const { proxy, port } = await proxyTo(server.port)
  proxy.setDelay(5_000, 0)
  const clients = await Promise.all([1, 2, 3].map(() => connect(port)))
  for (const c of clients) {
    c.on('error', () => {})
    c.write('held for 5 s')
  }
  await waitFor('the target to accept', 2_000, () => server.sockets.length === 3, 10)
  assert.equal(proxy.openConnections, 3)
  const start = performance.now()
  await proxy.close()
  assert.equal(proxy.openConnections, 0)
  await Promise.all([...clients, ...server.sockets].map(closed))
  assert.ok(performance.now() - start < 2_000)
  const late = closeAtEnd(net.connect({ host: LOCAL, port }), (c) => c.destroy())
  const [err] = (await once(late, 'error')) as [NodeJS.ErrnoException]
  assert.equal(err.code, 'ECONNREFUSED')
  await proxy.close()
  await server.close()
})

/** delay-proxy-main.ts as the rig runs it (without the namespace), and its stdout as lines. */
async function spawnMain(route: string): Promise<{ child: ChildProcess; next(): Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'evaluation/src/hosts/delay-proxy-main.ts', LOCAL, route], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  closeAtEnd(child, (c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'))
  const lines: string[] = []
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l))
  const next = async () => {
    await waitFor('a line from delay-proxy-main', 30_000, () => {
      if (child.exitCode !== null) throw new Error(`delay-proxy-main exited with ${child.exitCode}`)
      return lines.length > 0
    }, 20)
    return lines.shift()!
  }
  assert.deepEqual(JSON.parse(await next()), { ready: true })
  return { child, next }
}

async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => s.listen(0, LOCAL, resolve))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

test('delay-proxy-main: ready, `delay 50 0` answered and applied, SIGTERM exits 0 with a connection open', { timeout: 60_000 }, async () => {
  const server = await echo()
  const port = await freePort()
  const { child, next } = await spawnMain(`${port}=${LOCAL}:${server.port}`)
  const exited = once(child, 'exit')
  try {
    const s = await connect(port)
    s.on('error', () => {})
    assert.ok((await roundTrip(s)) < 50)
    child.stdin!.write('delay 50 0\n')
    assert.deepEqual(JSON.parse(await next()), { delay: 50, jitter: 0 })
    const rtt = await roundTrip(s)
    assert.ok(rtt >= 100 && rtt < 400, `50 ms each way: ${rtt}`)
    child.stdin!.write('slower please\n')
    assert.match((JSON.parse(await next()) as { error: string }).error, /unknown command/)
    child.kill('SIGTERM')
    assert.deepEqual(await exited, [0, null])
    await closed(s)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    await server.close()
  }
})

test('delay-proxy-main: exits 0 when its stdin closes (the parent gone)', { timeout: 60_000 }, async () => {
  const port = await freePort()
  const { child } = await spawnMain(`${port}=${LOCAL}:1`)
  const exited = once(child, 'exit')
  child.stdin!.end()
  let timer: NodeJS.Timeout | undefined
  try {
    assert.deepEqual(await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000, 'still running')))]), [0, null])
  } finally {
    clearTimeout(timer)
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})
