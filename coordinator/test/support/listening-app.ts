import type { TestContext } from 'node:test'
import { SimulatedWorker } from '@hivesight/worker-runtime/simulated'
import { buildTestApp, type TestApp } from './test-app.ts'

export interface ListeningApp extends TestApp {
  url: string
  wsUrl: string
  /** A simulated worker, closed when the test ends. */
  worker(opts?: Parameters<typeof SimulatedWorker.connect>[1]): Promise<SimulatedWorker>
}

/** A test coordinator on a real port, for WebSocket tests. */
export async function listeningApp(t: TestContext, opts: Parameters<typeof buildTestApp>[1] = {}): Promise<ListeningApp> {
  const app = await buildTestApp(t, opts)
  await app.app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.app.server.address()
  if (!address || typeof address === 'string') throw new Error('no address')
  const url = `http://127.0.0.1:${address.port}`
  const wsUrl = `ws://127.0.0.1:${address.port}/ws/worker`
  const workers: SimulatedWorker[] = []
  t.after(() => Promise.all(workers.map((w) => w.close())))
  return {
    ...app, url, wsUrl,
    worker: async (o) => {
      const w = await SimulatedWorker.connect(wsUrl, o)
      workers.push(w)
      return w
    },
  }
}
