import cluster, { type Worker } from 'node:cluster'

/**
 * Several peer coordinators on one host, sharing its port (node:cluster hands each new connection to one
 * of them): one Node process is one core, and peers need nothing but the shared database. Each child runs
 * the whole coordinator with its own COORDINATOR_ID (`<id>#<slot>`); one that dies is started again in its
 * slot, so its successor takes back what it held at once.
 */
export function runProcessGroup(processes: number, log: (msg: string) => void): void {
  let stopping = false
  const slots = new Map<Worker, number>()
  const fork = (slot: number) => {
    const child = cluster.fork({ COORDINATOR_SLOT: String(slot) })
    slots.set(child, slot)
  }
  for (let slot = 1; slot <= processes; slot++) fork(slot)
  cluster.on('exit', (child, code, signal) => {
    const slot = slots.get(child)
    slots.delete(child)
    if (stopping) {
      if (slots.size === 0) process.exit(0)
      return
    }
    log(`coordinator process ${slot} exited (${signal ?? code}); starting it again in 1 s`)
    if (slot !== undefined) setTimeout(() => fork(slot), 1_000)
  })
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log(`${signal}: stopping ${slots.size} coordinator processes`)
    for (const child of slots.keys()) child.process.kill('SIGTERM')
    if (slots.size === 0) process.exit(0)
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}
