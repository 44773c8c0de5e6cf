import { PROTOCOL_VERSION, type JobAssign } from '@hivesight/protocol'
import { CoordinatorConnection } from './connection.ts'
import { runJob } from './job-runner.ts'
import { initBackend, loadModel } from './model.ts'

// The worker page: the headless runtime opens it, and so can any browser tab that wants to volunteer.
interface PageConfig { modelUrl: string; wasmPath: string; socketPath: string }

declare global {
  interface Window {
    /** Called by the worker runtime on SIGTERM: take nothing new, hand back what has not started, finish the rest. */
    hivesightDrain?: () => Promise<void>
    /** Set by the worker runtime before the page loads; volunteers bring a join token in the link's #fragment. */
    __HIVESIGHT_WORKER_TOKEN__?: string
  }
}

const statusEl = document.getElementById('status')!
const state = { phase: 'starting', connected: false, jobsDone: 0, failed: 0, backend: '', workerId: '' }
function render(): void {
  statusEl.textContent = [
    state.phase,
    state.connected ? `connected as ${state.workerId.slice(-8)}` : 'not connected',
    `${state.jobsDone} jobs done${state.failed ? `, ${state.failed} failed` : ''}`,
    state.backend,
  ].filter(Boolean).join(' · ')
  document.title = `Hivesight worker · ${state.jobsDone} done`
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search)
  const config = (await (await fetch('/worker/config.json')).json()) as PageConfig
  state.phase = 'loading model'
  render()
  const backend = await initBackend(config.wasmPath)
  state.backend = `${backend.backend}${backend.simd ? ' simd' : ''}, ${backend.threads} thread${backend.threads > 1 ? 's' : ''}`
  const model = await loadModel(config.modelUrl)
  state.phase = 'ready'
  render()

  // Two slots: one image is classified while the next one is already on its way.
  const slots = Math.min(16, Math.max(1, Number(params.get('slots')) || 2))
  const queue: { job: JobAssign; image: Uint8Array }[] = []
  let current: string | undefined
  let busy: Promise<void> | undefined
  let draining = false
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${config.socketPath}`
  const connection = new CoordinatorConnection(url, {
    type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: params.get('kind') === 'headless' ? 'headless' : 'browser', slots,
    name: params.get('name')?.slice(0, 100) || undefined, userAgent: navigator.userAgent.slice(0, 400),
    backend: backend.backend, threads: backend.threads, simd: backend.simd,
    // The #fragment never reaches a server or its logs, unlike a query string.
    token: window.__HIVESIGHT_WORKER_TOKEN__ ?? new URLSearchParams(location.hash.slice(1)).get('token') ?? undefined,
  }, {
    onWelcome: (workerId) => {
      state.connected = true
      state.workerId = workerId
      state.phase = draining ? 'draining' : 'ready'
      render()
      if (draining) connection.send({ type: 'worker.drain' })
    },
    onAssign: (job, image) => {
      queue.push({ job, image })
      busy ??= drain().finally(() => {
        busy = undefined
      })
    },
    onCancel: (jobId, reason) => {
      // Not started yet: drop it. Running: let it finish; the coordinator ignores the answer.
      const i = queue.findIndex((q) => q.job.jobId === jobId)
      if (i >= 0) queue.splice(i, 1)
      console.info(`job ${jobId} taken back (${reason})${jobId === current ? ' while running' : ''}`)
    },
    onCoordinatorDraining: () => {
      state.phase = 'coordinator restarting'
      render()
    },
    onDisconnect: (reason) => {
      // The coordinator requeues whatever we held; finishing it would only produce stale results.
      queue.length = 0
      state.connected = false
      state.phase = `disconnected (${reason}), reconnecting`
      render()
    },
    onProblem: (message) => console.warn('coordinator:', message),
  })

  async function drain(): Promise<void> {
    for (let next = queue.shift(); next; next = queue.shift()) {
      current = next.job.jobId
      const outcome = await runJob(model, next.job, next.image)
      current = undefined
      if (outcome.type === 'job.result') state.jobsDone++
      else state.failed++
      connection.send(outcome)
      state.phase = draining ? 'draining' : 'ready'
      render()
    }
  }

  window.hivesightDrain = async () => {
    draining = true
    state.phase = 'draining'
    render()
    connection.send({ type: 'worker.drain' })
    for (const { job } of queue.splice(0)) connection.send({ type: 'job.release', jobId: job.jobId, leaseToken: job.leaseToken })
    await busy
  }
  connection.connect()
}

main().catch((err: unknown) => {
  state.phase = `failed: ${err instanceof Error ? err.message : String(err)}`
  render()
  console.error(err)
})
