import { PROTOCOL_VERSION, type JobAssign } from '@hivesight/protocol'
import { CoordinatorConnection } from './connection.ts'
import { runJob } from './job-runner.ts'
import { initBackend, loadModel } from './model.ts'

// The worker page: the headless runtime opens it, and so can any browser tab that wants to volunteer.
interface PageConfig { modelUrl: string; wasmPath: string; socketPath: string }

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
  let busy = false
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${config.socketPath}`
  const connection = new CoordinatorConnection(url, {
    type: 'worker.hello', protocol: PROTOCOL_VERSION, kind: params.get('kind') === 'headless' ? 'headless' : 'browser', slots,
    name: params.get('name')?.slice(0, 100) || undefined, userAgent: navigator.userAgent.slice(0, 400),
    backend: backend.backend, threads: backend.threads, simd: backend.simd,
  }, {
    onWelcome: (workerId) => {
      state.connected = true
      state.workerId = workerId
      render()
    },
    onAssign: (job, image) => {
      queue.push({ job, image })
      void drain()
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
    if (busy) return
    busy = true
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const outcome = await runJob(model, next.job, next.image)
        if (outcome.type === 'job.result') state.jobsDone++
        else state.failed++
        connection.send(outcome)
        state.phase = 'ready'
        render()
      }
    } finally {
      busy = false
    }
  }
  connection.connect()
}

main().catch((err: unknown) => {
  state.phase = `failed: ${err instanceof Error ? err.message : String(err)}`
  render()
  console.error(err)
})
