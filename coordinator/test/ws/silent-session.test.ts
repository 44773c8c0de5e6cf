import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import { PROTOCOL_VERSION } from '@hivesight/protocol'
import { signSessionToken } from '@hivesight/protocol/session-token'
import WebSocket from 'ws'
import { listeningApp } from '../support/listening-app.ts'

const KEYS = { AUTH_MODE: 'keys', WORKER_TOKEN: 'wt-secret-0123456789' }
const PING_MS = 2_000 // the default PING_INTERVAL_MS, which the README's "~4 s" is about
// Three ping intervals at most, plus 1 s for the release, the retry's own round trip and a busy event loop.
const BOUND_MS = 3 * PING_MS + 1_000

/** One attempt to join with a token: 'welcome', or the close code that refused it. */
function join(url: string, token: string): Promise<number | 'welcome'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    ws.on('open', () => ws.send(JSON.stringify({ type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token })))
    ws.on('message', (d) => {
      if ((JSON.parse(d.toString()) as { type?: string }).type === 'worker.welcome') {
        resolve('welcome')
        ws.close()
      }
    })
    ws.on('close', (code) => resolve(code))
    ws.on('error', () => undefined)
  })
}

// A page whose machine froze (no close, no pong) still holds its token's one live session. The server's
// pings free it: a tick finds two unanswered pings, which is 1–3 ping intervals after the freeze depending on
// where in the cycle it came (the README's "~4 s" is the middle of that). A retry with the token gets in then.
test('a token whose holder died silently is free again after 1–3 ping intervals (2–6 s by default), then a retry gets in', { timeout: 30_000 }, async (t) => {
  const app = await listeningApp(t, { env: { ...KEYS, PING_INTERVAL_MS: String(PING_MS) } })
  const token = signSessionToken(KEYS.WORKER_TOKEN, { kind: 'worker', name: 'vm3-1', expires: 0 })
  const frozen = await app.worker({ token })
  // ws keeps its TCP socket private; a peer that stops reading never answers a ping.
  ;(frozen.ws as unknown as { _socket: Socket })._socket.pause()
  const since = performance.now()
  const refusals: number[] = []
  try {
    for (;;) {
      const r = await join(app.wsUrl, token)
      if (r === 'welcome') break
      refusals.push(r)
      assert.ok(performance.now() - since < BOUND_MS, `still refused ${Math.round(performance.now() - since)} ms after the freeze`)
      await new Promise((res) => setTimeout(res, 100))
    }
  } finally {
    // Paused, it would never read the server's goodbye: closing it politely would wait 30 s.
    frozen.kill()
  }
  const tookMs = performance.now() - since
  console.log(`# the token got in ${Math.round(tookMs)} ms after its holder froze (${refusals.length} refusals)`)
  assert.ok(refusals.length > 0 && refusals.every((c) => c === 4409), `refused with 4409 while the frozen session lived: ${refusals.join(',')}`)
  assert.ok(tookMs < BOUND_MS, `got in ${Math.round(tookMs)} ms after the freeze (bound ${BOUND_MS} ms)`)
  assert.ok(tookMs > PING_MS - 100, `freed after ${Math.round(tookMs)} ms: before any ping could have gone unanswered twice`)
})
