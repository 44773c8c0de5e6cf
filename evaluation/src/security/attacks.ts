import { createConnection } from 'node:net'
import { PROTOCOL_VERSION, type JobView } from '@hivesight/protocol'
import { signSessionToken } from '@hivesight/protocol/session-token'
import { jpegClaiming, pngClaiming, tinyPng } from '@hivesight/coordinator/test-support/hostile-payloads'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import WebSocket from 'ws'
import { counter, rawSocket, type AttackTarget, type Http, type HttpAnswer } from './attack-context.ts'

export interface AttackContext {
  target: AttackTarget
  http: Http
  /** A real photo (JPEG) the workers can classify. */
  photo: Buffer
  /** Unique per run of an attack, for names and tokens. */
  tag: string
}

export interface Attack {
  id: string
  title: string
  /** The outcome the README promises. */
  expected: string
  /** Resolves with what was observed; throws (AttackFailed) when the outcome is not the expected one. */
  run(ctx: AttackContext): Promise<string>
}

export class AttackFailed extends Error {}

function check(cond: boolean, observed: string): string {
  if (!cond) throw new AttackFailed(observed)
  return observed
}

const problem = (a: HttpAnswer) => `${a.status} ${a.body.code ?? ''}`.trim()
const isProblem = (a: HttpAnswer, status: number, code: string) =>
  a.status === status && a.body.code === code && (a.headers.get('content-type') ?? '').startsWith('application/problem+json')

const hello = (token?: string) => JSON.stringify({ type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: 'headless', slots: 1, backend: 'wasm', threads: 1, simd: true, token })
const workerToken = (ctx: AttackContext, name: string) => signSessionToken(ctx.target.secrets.workerToken, { kind: 'worker', name: `${name}-${ctx.tag}`, expires: 0 })

async function waitFinished(ctx: AttackContext, id: string, key: string): Promise<JobView> {
  for (let i = 0; i < 20; i++) {
    const job = (await ctx.http.request(`/api/v1/jobs/${id}?wait=5`, { key })).body as unknown as JobView
    if (job.status !== 'queued' && job.status !== 'running') return job
  }
  throw new AttackFailed(`job ${id} did not finish in 100 s`)
}

/** The id of the one job an upload created; anything but a 202 is an unexpected outcome. */
function createdJob(a: HttpAnswer): string {
  const id = (a.body.jobs as { id: string }[] | undefined)?.[0]?.id
  if (a.status !== 202 || !id) throw new AttackFailed(`upload answered ${problem(a)}`)
  return id
}

const HTTP_ATTACKS: Attack[] = [
  {
    id: 'H1', title: 'upload without an API key', expected: '401 API_KEY_REQUIRED',
    run: async (ctx) => {
      const a = await ctx.http.upload([{ name: 'a.png', data: tinyPng(), type: 'image/png' }])
      return check(isProblem(a, 401, 'API_KEY_REQUIRED'), problem(a))
    },
  },
  {
    id: 'H2', title: 'a wrong or revoked-looking key', expected: '401 API_KEY_INVALID',
    run: async (ctx) => {
      const a = await ctx.http.upload([{ name: 'a.png', data: tinyPng(), type: 'image/png' }], { key: `hsk_${'x'.repeat(40)}` })
      return check(isProblem(a, 401, 'API_KEY_INVALID'), problem(a))
    },
  },
  {
    id: 'H3', title: 'a valid key in the query string', expected: '400 API_KEY_IN_URL (refused even though the key is valid)',
    run: async (ctx) => {
      const a = await ctx.http.request(`/api/v1/jobs?api_key=${ctx.target.keys.alice}`)
      return check(isProblem(a, 400, 'API_KEY_IN_URL'), problem(a))
    },
  },
  {
    id: 'H4', title: 'an image over the size limit', expected: '413 IMAGE_TOO_LARGE',
    run: async (ctx) => {
      const big = Buffer.concat([ctx.photo, Buffer.alloc(ctx.target.maxImageBytes)])
      const a = await ctx.http.upload([{ name: 'big.jpg', data: big }], { key: ctx.target.keys.alice })
      return check(isProblem(a, 413, 'IMAGE_TOO_LARGE'), problem(a))
    },
  },
  {
    id: 'H5', title: 'more files in one request than allowed', expected: '413 TOO_MANY_IMAGES, no job created',
    run: async (ctx) => {
      const before = (await ctx.http.request('/api/v1/jobs?limit=1', { key: ctx.target.keys.alice })).body
      const files = Array.from({ length: ctx.target.maxImagesPerRequest + 1 }, (_, i) => ({ name: `${i}.png`, data: tinyPng(), type: 'image/png' }))
      const a = await ctx.http.upload(files, { key: ctx.target.keys.alice })
      const after = (await ctx.http.request('/api/v1/jobs?limit=1', { key: ctx.target.keys.alice })).body
      return check(isProblem(a, 413, 'TOO_MANY_IMAGES') && JSON.stringify(before) === JSON.stringify(after), `${problem(a)}, newest job unchanged: ${JSON.stringify(before) === JSON.stringify(after)}`)
    },
  },
  {
    id: 'H6', title: 'a zero-byte file', expected: '422 IMAGE_INVALID',
    run: async (ctx) => {
      const a = await ctx.http.upload([{ name: 'empty.jpg', data: Buffer.alloc(0) }], { key: ctx.target.keys.alice })
      return check(isProblem(a, 422, 'IMAGE_INVALID'), problem(a))
    },
  },
  {
    id: 'H7', title: 'random bytes named .jpg', expected: '415 UNSUPPORTED_IMAGE_TYPE',
    run: async (ctx) => {
      const noise = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 251))
      const a = await ctx.http.upload([{ name: 'photo.jpg', data: noise }], { key: ctx.target.keys.alice })
      return check(isProblem(a, 415, 'UNSUPPORTED_IMAGE_TYPE'), problem(a))
    },
  },
  {
    id: 'H8', title: 'HTML/SVG polyglot declared as image/jpeg', expected: '415 UNSUPPORTED_IMAGE_TYPE (type from magic bytes)',
    run: async (ctx) => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>fetch("/api/v1/jobs")</script></svg><html>')
      const a = await ctx.http.upload([{ name: 'cat.jpg', data: svg, type: 'image/jpeg' }], { key: ctx.target.keys.alice })
      return check(isProblem(a, 415, 'UNSUPPORTED_IMAGE_TYPE'), problem(a))
    },
  },
  {
    id: 'H9', title: 'path-traversal filename', expected: '202; the image is stored by job id in the database, the name only echoed, as "passwd.png"',
    run: async (ctx) => {
      const a = await ctx.http.upload([{ name: '../../../../etc/passwd.png', data: tinyPng(), type: 'image/png' }], { key: ctx.target.keys.alice })
      const name = (a.body.jobs as { filename: string }[] | undefined)?.[0]?.filename
      return check(a.status === 202 && name === 'passwd.png', `${a.status}, echoed ${JSON.stringify(name)}`)
    },
  },
  {
    id: 'H10', title: '10 000-character filename', expected: '202; name echoed cut to 255 characters',
    run: async (ctx) => {
      const a = await ctx.http.upload([{ name: `${'a'.repeat(10_000)}.png`, data: tinyPng(), type: 'image/png' }], { key: ctx.target.keys.alice })
      const name = (a.body.jobs as { filename: string }[] | undefined)?.[0]?.filename
      return check(a.status === 202 && name?.length === 255, `${a.status}, echoed ${name?.length} characters`)
    },
  },
  {
    id: 'H11', title: 'pixel-bomb PNG (valid header claiming 100 000 × 100 000)', expected: '422 IMAGE_TOO_MANY_PIXELS, from the header, nothing decoded',
    run: async (ctx) => {
      const a = await ctx.http.upload([{ name: 'bomb.png', data: pngClaiming(100_000, 100_000), type: 'image/png' }], { key: ctx.target.keys.alice })
      return check(isProblem(a, 422, 'IMAGE_TOO_MANY_PIXELS'), problem(a))
    },
  },
  {
    id: 'H12', title: 'pixel-bomb JPEG (valid header claiming 65 000 × 65 000)', expected: '422 IMAGE_TOO_MANY_PIXELS',
    run: async (ctx) => {
      const a = await ctx.http.upload([{ name: 'bomb.jpg', data: jpegClaiming(65_000, 65_000) }], { key: ctx.target.keys.alice })
      return check(isProblem(a, 422, 'IMAGE_TOO_MANY_PIXELS'), problem(a))
    },
  },
  {
    id: 'H13', title: 'truncated JPEG with a valid header', expected: '202; job failed IMAGE_DECODE_FAILED after 1 attempt; the worker survives and classifies the next image',
    run: async (ctx) => {
      const key = ctx.target.keys.alice
      const cut = ctx.photo.subarray(0, Math.floor(ctx.photo.length * 0.3))
      const poison = await waitFinished(ctx, createdJob(await ctx.http.upload([{ name: 'cut.jpg', data: cut }], { key })), key)
      const next = await waitFinished(ctx, createdJob(await ctx.http.upload([{ name: 'good.jpg', data: ctx.photo }], { key })), key)
      return check(poison.status === 'failed' && poison.attempts === 1 && poison.error?.code === 'IMAGE_DECODE_FAILED' && next.status === 'succeeded',
        `poison ${poison.status} ${poison.error?.code ?? ''} after ${poison.attempts} attempt(s); next image ${next.status}`)
    },
  },
  {
    id: 'H14', title: 'upload flood from one key (8 at a time)', expected: '429 RATE_LIMITED with Retry-After; another key still gets 202',
    run: async (ctx) => {
      const statuses = new Map<number, number>()
      let retryAfter: string | null = null
      // Valid uploads, so the accepted ones are real jobs; lowest priority, so they do not delay other attacks' jobs.
      const one = async () => {
        const a = await ctx.http.upload([{ name: 'f.png', data: tinyPng(), type: 'image/png' }], { key: ctx.target.keys.flood, path: '/api/v1/jobs?priority=-1000' })
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1)
        if (a.status === 429) retryAfter = a.headers.get('retry-after')
      }
      for (let sent = 0; sent < 2 * ctx.target.rateLimitPerMinute && !statuses.has(429); sent += 8) await Promise.all(Array.from({ length: 8 }, one))
      const other = await ctx.http.upload([{ name: 'calm.png', data: tinyPng(), type: 'image/png' }], { key: ctx.target.keys.bob })
      const seen = [...statuses].map(([s, n]) => `${s}×${n}`).join(', ')
      return check(statuses.has(429) && Number(retryAfter) > 0 && [...statuses.keys()].every((s) => s === 202 || s === 429) && other.status === 202,
        `${seen}; Retry-After ${retryAfter}; other key ${other.status}`)
    },
  },
  {
    id: 'H15', title: "another key's job (read, wait, cancel)", expected: '404 JOB_NOT_FOUND for each, the job untouched',
    run: async (ctx) => {
      const id = createdJob(await ctx.http.upload([{ name: 'mine.jpg', data: ctx.photo }], { key: ctx.target.keys.alice }))
      const answers = [
        await ctx.http.request(`/api/v1/jobs/${id}`, { key: ctx.target.keys.bob }),
        await ctx.http.request(`/api/v1/jobs/${id}?wait=1`, { key: ctx.target.keys.bob }),
        await ctx.http.request(`/api/v1/jobs/${id}`, { method: 'DELETE', key: ctx.target.keys.bob }),
      ]
      const own = await waitFinished(ctx, id, ctx.target.keys.alice)
      return check(answers.every((x) => isProblem(x, 404, 'JOB_NOT_FOUND')) && own.status === 'succeeded', `${answers.map(problem).join(', ')}; owner sees ${own.status}`)
    },
  },
  {
    id: 'H16', title: '__proto__ and constructor keys in a JSON submit', expected: '400 INVALID_JSON; no prototype pollution',
    run: async (ctx) => {
      // The pollution tries to give every object a `priority`: if it took, the server's next job without
      // one would come out with priority 9 instead of 0. That is observed on the server, not in our parse.
      const image = tinyPng().toString('base64')
      const bodies = [
        `{"images":[{"data":"${image}"}],"__proto__":{"priority":9}}`,
        `{"images":[{"data":"${image}","constructor":{"prototype":{"priority":9}}}]}`,
      ]
      const answers = []
      for (const body of bodies) answers.push(await ctx.http.request('/api/v1/jobs', { method: 'POST', body, headers: { 'content-type': 'application/json' }, key: ctx.target.keys.alice }))
      const fresh = await ctx.http.request('/api/v1/jobs', { method: 'POST', body: JSON.stringify({ images: [{ data: image }] }), headers: { 'content-type': 'application/json' }, key: ctx.target.keys.alice })
      const id = (fresh.body as { jobs?: { id: string }[] } | undefined)?.jobs?.[0]?.id
      const job = id ? await ctx.http.request(`/api/v1/jobs/${id}`, { key: ctx.target.keys.alice }) : undefined
      const priority = (job?.body as { priority?: number } | undefined)?.priority
      return check(answers.every((a) => isProblem(a, 400, 'INVALID_JSON')) && fresh.status === 202 && priority === 0,
        `${answers.map(problem).join(', ')}; a clean submit ${fresh.status}, its priority ${String(priority)}`)
    },
  },
  {
    id: 'H17', title: 'malformed JSON and wrong content types', expected: '400 INVALID_JSON for broken JSON, 415 UNSUPPORTED_MEDIA_TYPE for text/plain',
    run: async (ctx) => {
      const broken = await ctx.http.request('/api/v1/jobs', { method: 'POST', body: '{"images": [', headers: { 'content-type': 'application/json' }, key: ctx.target.keys.alice })
      const text = await ctx.http.request('/api/v1/jobs', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' }, key: ctx.target.keys.alice })
      return check(isProblem(broken, 400, 'INVALID_JSON') && isProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE'), `${problem(broken)}, ${problem(text)}`)
    },
  },
  {
    id: 'H18', title: 'CORS preflight from an unlisted origin', expected: 'no Access-Control-Allow-Origin (listed origin echoed, never *)',
    run: async (ctx) => {
      const preflight = (origin: string) => ctx.http.request('/api/v1/jobs', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } })
      const evil = await preflight('https://evil.example')
      const listed = await preflight(ctx.target.corsOrigin)
      const evilAllow = evil.headers.get('access-control-allow-origin')
      const listedAllow = listed.headers.get('access-control-allow-origin')
      return check(evilAllow === null && listedAllow === ctx.target.corsOrigin, `unlisted: ${evilAllow ?? 'none'}; listed: ${listedAllow}`)
    },
  },
  {
    id: 'H19', title: 'slow upload (one byte every 200 ms)', expected: 'cut off (408, connection closed) after the request timeout',
    run: async (ctx) => {
      const { hostname, port } = new URL(ctx.target.url)
      const started = performance.now()
      const reply = await new Promise<string>((resolve) => {
        const socket = createConnection({ host: hostname, port: Number(port) })
        let got = ''
        const drip = setInterval(() => socket.write('x'), 200)
        const give = setTimeout(() => socket.destroy(), ctx.target.requestTimeoutMs + 10_000)
        socket.on('connect', () => socket.write(`POST /api/v1/jobs HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${ctx.target.keys.alice}\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n`))
        socket.on('data', (d) => (got += d.toString()))
        socket.on('error', () => undefined)
        socket.on('close', () => {
          clearInterval(drip)
          clearTimeout(give)
          resolve(got.split('\r\n')[0] || 'closed without an answer')
        })
      })
      const s = (performance.now() - started) / 1000
      // The promise is a 408 within the request timeout, not merely "no 5xx".
      return check(s < ctx.target.requestTimeoutMs / 1000 + 5 && /^HTTP\/1\.1 408 /.test(reply), `"${reply}" after ${s.toFixed(1)} s`)
    },
  },
  {
    id: 'H20', title: 'a multipart body of 50 small form fields', expected: '413 TOO_MANY_FIELDS',
    run: async (ctx) => {
      const form = new FormData()
      for (let i = 0; i < 50; i++) form.append(`f${i}`, 'x')
      form.append('image', new Blob([new Uint8Array(tinyPng())], { type: 'image/png' }), 'a.png')
      const a = await ctx.http.request('/api/v1/jobs', { method: 'POST', body: form, key: ctx.target.keys.alice })
      return check(isProblem(a, 413, 'TOO_MANY_FIELDS'), problem(a))
    },
  },
]

const WS_ATTACKS: Attack[] = [
  {
    id: 'W1', title: 'worker socket from a foreign Origin', expected: '403 at the upgrade',
    run: async (ctx) => {
      const end = await rawSocket(ctx.target.wsUrl, { origin: 'https://evil.example' })
      return check(end.status === 403, `upgrade ${end.status ?? `opened, closed ${end.code}`}`)
    },
  },
  {
    id: 'W2', title: 'hello without a token', expected: 'closed 1008',
    run: async (ctx) => {
      const end = await rawSocket(ctx.target.wsUrl, { onOpen: (ws) => ws.send(hello()) })
      return check(end.code === 1008, `closed ${end.code}`)
    },
  },
  {
    id: 'W3', title: 'hello with a forged token, or with the raw WORKER_TOKEN secret', expected: 'closed 1008 (both)',
    run: async (ctx) => {
      const forged = signSessionToken('guessed-secret-guessed', { kind: 'worker', name: `forged-${ctx.tag}`, expires: 0 })
      const a = await rawSocket(ctx.target.wsUrl, { onOpen: (ws) => ws.send(hello(forged)) })
      const b = await rawSocket(ctx.target.wsUrl, { onOpen: (ws) => ws.send(hello(ctx.target.secrets.workerToken)) })
      return check(a.code === 1008 && b.code === 1008, `forged: ${a.code}, secret: ${b.code}`)
    },
  },
  {
    id: 'W4', title: 'valid token sent late (after 2.5 s)', expected: 'closed 1008 at 2 s, before the hello',
    run: async (ctx) => {
      const end = await rawSocket(ctx.target.wsUrl, { onOpen: (ws) => setTimeout(() => ws.readyState === ws.OPEN && ws.send(hello(workerToken(ctx, 'late'))), 2_500) })
      return check(end.code === 1008 && end.afterMs < 2_500, `closed ${end.code} after ${(end.afterMs / 1000).toFixed(1)} s`)
    },
  },
  {
    id: 'W5', title: 'expired join token', expected: 'closed 1008',
    run: async (ctx) => {
      const expired = signSessionToken(ctx.target.secrets.joinToken, { kind: 'join', name: `old-${ctx.tag}`, expires: Math.floor(Date.now() / 1000) - 1 })
      const end = await rawSocket(ctx.target.wsUrl, { onOpen: (ws) => ws.send(hello(expired)) })
      return check(end.code === 1008, `closed ${end.code}`)
    },
  },
  {
    id: 'W6', title: 'a second live session with the same token', expected: 'closed 4409; the first session keeps working',
    run: async (ctx) => {
      const token = workerToken(ctx, 'twin')
      const first = await SimulatedWorker.connect(ctx.target.wsUrl, { token })
      try {
        const second = await rawSocket(ctx.target.wsUrl, { onOpen: (ws) => ws.send(hello(token)) })
        const stillOpen = first.ws.readyState === first.ws.OPEN
        return check(second.code === 4409 && stillOpen, `second closed ${second.code}; first still open: ${stillOpen}`)
      } finally {
        await first.close()
      }
    },
  },
  {
    id: 'W7', title: 'oversized frame (100 KiB)', expected: 'closed 1009',
    run: async (ctx) => {
      const end = await rawSocket(ctx.target.wsUrl, { onOpen: (ws) => ws.send('x'.repeat(100 * 1024)) })
      return check(end.code === 1009, `closed ${end.code}`)
    },
  },
  {
    id: 'W8', title: 'message flood (3 000 messages at once)', expected: 'RATE_LIMITED error frames, then closed 1008',
    run: async (ctx) => {
      const end = await rawSocket(ctx.target.wsUrl, {
        onOpen: (ws) => {
          ws.send(hello(workerToken(ctx, 'flood')))
          for (let i = 0; i < 3_000; i++) ws.send('{"type":"worker.drain"}')
        },
      })
      return check(end.code === 1008 && end.errors.includes('RATE_LIMITED'), `closed ${end.code}; ${end.errors.filter((e) => e === 'RATE_LIMITED').length} RATE_LIMITED frames`)
    },
  },
  {
    id: 'W9', title: 'malformed JSON and out-of-range messages', expected: 'BAD_MESSAGE error frame each; closed 1008 after 20',
    run: async (ctx) => {
      const junk = ['{nope', '[]', '{"type":"job.result","jobId":1}', '{"type":"worker.hello","slots":1e9}', '"x"']
      const end = await rawSocket(ctx.target.wsUrl, {
        onOpen: (ws) => {
          ws.send(hello(workerToken(ctx, 'junk')))
          for (let i = 0; i < 25; i++) ws.send(junk[i % junk.length]!)
        },
      })
      const bad = end.errors.filter((e) => e === 'BAD_MESSAGE').length
      return check(end.code === 1008 && bad >= 20, `closed ${end.code}; ${bad} BAD_MESSAGE frames`)
    },
  },
  {
    id: 'W10', title: "result for another worker's job, and a replayed result", expected: 'both refused (stale answers +2); the job keeps its first, genuine result',
    run: async (ctx) => {
      const metrics = async () => counter(await (await fetch(`${ctx.target.url}/metrics`)).text(), 'hivesight_stale_answers_total')
      // Many free slots, so the planner (which spreads by free slots) picks the attacker first.
      const holder = await SimulatedWorker.connect(ctx.target.wsUrl, { token: workerToken(ctx, 'holder'), slots: 8 })
      const thief = await SimulatedWorker.connect(ctx.target.wsUrl, { token: workerToken(ctx, 'thief'), slots: 1 })
      try {
        // Upload until the holder is leased one of these uploads (the queue may hold other keys' jobs: the
        // holder answers those at once, as a worker would, to free its slots).
        const mine = new Set<string>()
        const answered = new Set<string>()
        let a: (typeof holder.assignments)[number] | undefined
        for (let i = 0; i < 60 && !a; i++) {
          mine.add(createdJob(await ctx.http.upload([{ name: 'lease.png', data: tinyPng(), type: 'image/png' }], { key: ctx.target.keys.bob })))
          await new Promise((r) => setTimeout(r, 50))
          for (const x of holder.assignments) {
            if (mine.has(x.job.jobId)) a ??= x
            else if (!answered.has(x.job.jobId)) {
              answered.add(x.job.jobId)
              holder.succeed(x)
            }
          }
        }
        if (!a) throw new AttackFailed('the attacker worker was never leased one of its uploads')
        for (const t of thief.assignments) thief.succeed(t)
        const before = await metrics()
        thief.succeed(a, [7])
        holder.succeed(a, [9])
        holder.succeed(a, [11])
        const job = await waitFinished(ctx, a.job.jobId, ctx.target.keys.bob)
        await new Promise((r) => setTimeout(r, 200))
        const refused = (await metrics()) - before
        return check(refused >= 2 && job.status === 'succeeded' && job.result?.predictions[0]?.wnid === 'n01514859',
          `refused ${refused}; job ${job.status} with ${job.result?.predictions[0]?.wnid} (class 9 expected)`)
      } finally {
        await Promise.all([holder.close(), thief.close()])
      }
    },
  },
  {
    id: 'W11', title: 'too many sockets from one IP', expected: '429 at the upgrade once the cap is reached',
    run: async (ctx) => {
      const open: WebSocket[] = []
      let refusedAt = 0
      try {
        for (let i = 1; i <= ctx.target.maxConnectionsPerIp + 1 && !refusedAt; i++) {
          const ws = new WebSocket(ctx.target.wsUrl)
          open.push(ws)
          const status = await new Promise<number>((resolve) => {
            ws.once('open', () => resolve(101))
            ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
            ws.once('error', () => resolve(0))
          })
          if (status === 429) refusedAt = i
        }
      } finally {
        for (const ws of open) ws.terminate()
      }
      // The suite's own Chromium page holds one socket from this address (and one may still be closing):
      // the refusal must come at the cap, not before it (a refusal at the first socket is a broken cap).
      const cap = ctx.target.maxConnectionsPerIp
      return check(refusedAt >= cap - 1 && refusedAt <= cap + 1, `refused (429) at socket ${refusedAt} of a cap of ${cap}`)
    },
  },
]

export const ATTACKS: Attack[] = [...HTTP_ATTACKS, ...WS_ATTACKS]
