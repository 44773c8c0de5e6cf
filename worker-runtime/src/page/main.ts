import { PROTOCOL_VERSION, type JobAssign } from '@hivesight/protocol'
import { CoordinatorConnection } from './connection.ts'
import { InferenceClient } from './inference-client.ts'
import { JobPipeline } from './job-pipeline.ts'
import { ModelCatalog } from './model-catalog.ts'
import { checkGolden } from './golden-check.ts'
import { needsRestart } from './memory-policy.ts'
import { ImageDecodeError, prepareImage } from './prepare.ts'
import { StatusLine } from './status-line.ts'
import { chooseThreads } from './thread-choice.ts'

// The worker page: the headless runtime opens it, and so can any browser tab that wants to volunteer.
interface PageConfig { modelsPath: string; preload: string[]; wasmPath: string; socketPath: string }

declare global {
  interface Window {
    /** Called by the worker runtime on SIGTERM: take nothing new, hand back what has not started, finish the rest. */
    hivesightDrain?: () => Promise<void>
  }
}

async function main(status: StatusLine): Promise<void> {
  const params = new URLSearchParams(location.search)
  const config = (await (await fetch('/worker/config.json')).json()) as PageConfig
  const inferenceScript = document.querySelector<HTMLMetaElement>('meta[name="hivesight-inference"]')?.content
  if (!inferenceScript) throw new Error('the page has no inference script (rebuild it: npm run build)')
  status.update({ phase: 'loading model' })
  const inference = new InferenceClient(inferenceScript)
  const modelsBase = new URL(config.modelsPath, location.href).toString()
  const catalog = new ModelCatalog(modelsBase)
  const threads = chooseThreads(params.get('threads'), globalThis.crossOriginIsolated === true, navigator.hardwareConcurrency || 1)
  // Several models fit a page (MobileNet V2 is 14 MB of weights); ?models=N and ?modelMb=M change the budget.
  const maxModels = Math.min(16, Math.max(1, Number(params.get('models')) || 4))
  const maxModelBytes = Math.max(1, Number(params.get('modelMb')) || 400) * 1024 * 1024
  const backend = await inference.start({ wasmPath: config.wasmPath, modelsPath: new URL(config.modelsPath, location.href).toString(), threads, maxModels, maxModelBytes })
  // What the inference worker holds, told to the coordinator once connected (and on every change).
  let held: string[] = []
  let tell: (held: string[]) => void = () => undefined
  // Past this wasm heap after an eviction, the inference worker is replaced (memory-policy.ts); ?heapMb= sets it.
  const heapLimit = Math.max(1, Number(params.get('heapMb')) || 256) * 1024 * 1024
  inference.onModels = (now, memory) => {
    held = now
    tell(held)
    if (needsRestart(memory, heapLimit)) {
      console.info(`inference worker: wasm heap ${Math.round(memory.heapBytes / 2 ** 20)} MiB after evicting ${memory.evicted} model(s); starting a fresh one`)
      void inference.restart().catch((err: unknown) => status.update({ phase: `failed: the inference worker did not restart (${err instanceof Error ? err.message : String(err)})` }))
    }
  }
  const t0 = performance.now()
  // The default model before joining, so the first jobs do not wait for it (others load on first use).
  for (const id of config.preload) await inference.check(await catalog.get(id))
  status.update({ phase: 'ready', backend: `${backend.backend} ${backend.flavour}, ${backend.threads} thread${backend.threads > 1 ? 's' : ''}, model in ${Math.round(performance.now() - t0)} ms` })

  // Two slots by default: one image is predicted while the next is decoded (and a third, if asked, is on its way).
  const slots = Math.min(16, Math.max(1, Number(params.get('slots')) || 2))
  let draining = false
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${config.socketPath}`
  const pipeline = new JobPipeline({
    prepare: async (image, job) => prepareImage(image, job.contentType, (await catalog.get(job.model)).preprocessing),
    infer: async (input, job) => {
      // A shadow run takes the same input (the coordinator pairs only versions that prepare it alike); the input is transferred, so copied first.
      const copy = job.shadow ? input.slice() : undefined
      const main = await inference.infer(input, await catalog.get(job.model))
      if (!copy || !job.shadow) return main
      const shadow = await inference.infer(copy, await catalog.get(job.shadow)).catch(() => undefined)
      return shadow?.top[0] ? { ...main, shadowTop1: shadow.top[0].index } : main
    },
    isDecodeError: (err) => err instanceof ImageDecodeError,
    now: () => performance.now(),
    send: (outcome) => {
      status.count(outcome.type === 'job.result')
      connection.send(outcome)
    },
  })
  const connection = new CoordinatorConnection(url, {
    type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: params.get('kind') === 'headless' ? 'headless' : 'browser', slots,
    name: params.get('name')?.slice(0, 100) || undefined, userAgent: navigator.userAgent.slice(0, 400),
    backend: backend.backend, threads: backend.threads, simd: backend.simd,
    // Runtimes and join links put the token in the #fragment, which never reaches a server or its logs.
    token: new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined,
  }, {
    onWelcome: (workerId) => {
      status.update({ connected: true, workerId, phase: draining ? 'draining' : 'ready' })
      if (draining) connection.send({ type: 'worker.drain' })
      else connection.send({ type: 'worker.models', held })
    },
    onModelCheck: (id) => {
      // Field by field: the coordinator refuses a message with anything else in it.
      const reply = (r: { ok: boolean; reason?: string; loadMs: number; inferMs: number; outputs: number }) =>
        connection.send({ type: 'model.checked', model: id, ok: r.ok, reason: r.reason, loadMs: r.loadMs, inferMs: r.inferMs, outputs: r.outputs })
      void (async () => {
        const d = await catalog.get(id)
        const r = await inference.check(d)
        if (!r.finite) return reply({ ...r, ok: false, reason: 'the model gave NaN or infinite outputs for an all-zero input' })
        const golden = await checkGolden(d, modelsBase, async (bytes, type) => (await inference.infer(await prepareImage(bytes, type, d.preprocessing), d)).top)
        reply({ ...r, ok: golden === undefined, reason: golden })
      })().catch((err: unknown) => reply({ ok: false, reason: String(err instanceof Error ? err.message : err).slice(0, 1000), loadMs: 0, inferMs: 0, outputs: 0 }))
    },
    onAssign: (job: JobAssign, image) => {
      // Sent before the coordinator read our worker.drain: hand it back unstarted instead of running it,
      // or it may still be on its way when the browser closes and come back with an attempt used.
      if (draining) connection.send({ type: 'job.release', jobId: job.jobId, leaseToken: job.leaseToken })
      else pipeline.add(job, image)
    },
    onCancel: (jobId, reason) => {
      const what = pipeline.cancel(jobId)
      console.info(`job ${jobId} taken back (${reason})${what === 'running' ? ' while running' : ''}`)
    },
    onCoordinatorDraining: () => status.update({ phase: 'coordinator restarting' }),
    onDisconnect: (reason) => {
      pipeline.clear()
      status.update({ connected: false, phase: `disconnected (${reason}), reconnecting` })
    },
    onProblem: (message) => console.warn('coordinator:', message),
  })

  tell = (now) => connection.send({ type: 'worker.models', held: now })

  window.hivesightDrain = async () => {
    draining = true
    status.update({ phase: 'draining' })
    connection.send({ type: 'worker.drain' })
    for (const job of pipeline.takeUnstarted()) connection.send({ type: 'job.release', jobId: job.jobId, leaseToken: job.leaseToken })
    await pipeline.idle()
  }
  connection.connect()
}

const status = new StatusLine(document.getElementById('status')!)
main(status).catch((err: unknown) => {
  status.update({ phase: `failed: ${err instanceof Error ? err.message : String(err)}` })
  console.error(err)
})
