import type { Fault, FaultContext } from './fault-run.ts'
import { reassignmentSeconds } from './fault-run.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The worker holding the most jobs right now (waits briefly for one that holds any). */
async function busiest(ctx: FaultContext) {
  for (let i = 0; i < 100; i++) {
    const w = [...ctx.workers].filter((x) => !x.isDraining).sort((a, b) => b.holding.length - a.holding.length)[0]
    if (w && w.holding.length > 0) return w
    await sleep(10)
  }
  throw new Error('no worker holds a job')
}

export const F1: Fault = {
  id: 'F1',
  title: 'kill -9 a worker holding jobs',
  async inject(ctx) {
    const victim = await busiest(ctx)
    const held = victim.holding
    const at = Date.now()
    victim.kill()
    ctx.addWorker()
    await sleep(3_000)
    ctx.requeueSeconds.push(...reassignmentSeconds(ctx.events, held, at))
    ctx.notes.push(`${held.length} held jobs`)
  },
}

export const F2: Fault = {
  id: 'F2',
  title: 'kill all workers, new ones later',
  async inject(ctx) {
    const gapMs = 30_000 * ctx.timeScale
    for (const w of ctx.workers) w.kill()
    await sleep(gapMs)
    const at = Date.now()
    ctx.addWorker()
    ctx.addWorker()
    await sleep(1_000)
    const first = ctx.events.assigned.find((a) => a.at > at)
    ctx.notes.push(`workers back after ${gapMs / 1000} s; first job ${first ? ((first.at - at) / 1000).toFixed(2) : '–'} s after`)
  },
}

export const F3: Fault = {
  id: 'F3',
  title: 'SIGSTOP a worker past its lease, SIGCONT',
  async inject(ctx) {
    const victim = await busiest(ctx)
    const held = victim.holding
    const at = Date.now()
    victim.freeze()
    await sleep(9_000)
    ctx.requeueSeconds.push(...reassignmentSeconds(ctx.events, held, at))
    victim.thaw()
    ctx.notes.push(`${held.length} held; their late answers must be refused`)
  },
}

export const F5: Fault = {
  id: 'F5',
  title: 'kill -9 the coordinator mid-run, restart',
  async inject(ctx) {
    const at = Date.now()
    await ctx.coordinator.kill('SIGKILL')
    await sleep(1_000)
    await ctx.coordinator.start()
    const back = Date.now()
    await sleep(2_000)
    const first = ctx.events.assigned.find((a) => a.at > back)
    ctx.notes.push(`down ${((back - at) / 1000).toFixed(1)} s; first dispatch ${first ? ((first.at - back) / 1000).toFixed(2) : '–'} s after restart`)
  },
}

export const F6: Fault = {
  id: 'F6',
  title: 'stop MariaDB for 10 s mid-run',
  privateMariaDb: true,
  async inject(ctx) {
    const db = ctx.mariadb!
    const at = Date.now()
    await db.stop()
    await sleep(10_000 * ctx.timeScale)
    await db.start()
    ctx.notes.push(`database down ${((Date.now() - at) / 1000).toFixed(1)} s`)
  },
}

export const F11: Fault = {
  id: 'F11',
  title: 'a poison image among good ones',
  poison: true,
  async inject(ctx) {
    ctx.notes.push('the poison job must fail after 1 attempt, the rest succeed')
  },
}

export const F13: Fault = {
  id: 'F13',
  title: 'SIGTERM a worker runtime (drain)',
  async inject(ctx) {
    const victim = await busiest(ctx)
    await victim.drain()
    ctx.addWorker()
    ctx.notes.push('the drained worker finished or handed back what it held')
  },
}

export const FAULTS: Fault[] = [F1, F2, F3, F5, F6, F11, F13]
