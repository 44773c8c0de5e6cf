import type { Fault, FaultContext } from './fault-run.ts'
import { SimFleet, type FleetMember } from './fleet.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A member holding at least one job right now (waits a little for one). */
async function holder(ctx: FaultContext): Promise<{ member: FleetMember; held: string[] }> {
  for (let i = 0; i < 200; i++) {
    for (const member of ctx.fleet.members) {
      const held = await member.held()
      if (held.length > 0) return { member, held }
    }
    await sleep(20)
  }
  throw new Error('no worker holds a job')
}

export const F1: Fault = {
  id: 'F1',
  title: 'kill -9 a worker holding jobs',
  simulatedTitle: 'cut a simulated worker\'s connection without a close frame while it holds jobs',
  async inject(ctx) {
    const { member, held } = await holder(ctx)
    const at = Date.now()
    member.kill()
    await ctx.measureRequeue(held, at)
    ctx.notes.push(`${held.length} held jobs`)
  },
}

export const F2: Fault = {
  id: 'F2',
  title: 'kill all workers, new ones later',
  async inject(ctx) {
    const gapMs = 30_000 * ctx.timeScale
    const members = [...ctx.fleet.members]
    for (const m of members) m.kill()
    // Real runtimes relaunch their browser by themselves: stop them for the gap.
    for (const m of members) m.freeze()
    await sleep(gapMs)
    const at = Date.now()
    await Promise.all(members.map(() => ctx.fleet.add()))
    ctx.notes.push(`new workers after ${gapMs / 1000} s, ready ${((Date.now() - at) / 1000).toFixed(1)} s later`)
  },
}

export const F3: Fault = {
  id: 'F3',
  // 9 s frozen against a 30 s lease: what catches it is the missed pings, not the lease.
  title: 'SIGSTOP a worker for 9 s (missed pings, not its lease, catch it), SIGCONT',
  simulatedTitle: 'freeze a simulated worker (it stops reading and answering) for 9 s, then thaw',
  async inject(ctx) {
    const { member } = await holder(ctx)
    const at = Date.now()
    member.freeze()
    // What it holds once frozen: those can no longer finish on it.
    const held = await member.held()
    const measured = ctx.measureRequeue(held, at, 20_000)
    await sleep(Math.max(0, at + 9_000 - Date.now()))
    member.thaw()
    await measured
    // A simulated worker sends what it held once it is back in; without this wait the run could end first and
    // no late answer would reach the coordinator. (A real page drops that work with its connection.)
    if (ctx.fleet instanceof SimFleet) {
      const events = ctx.fleet.events
      for (let i = 0; i < 150 && events.staleAnswersSent < held.length; i++) await sleep(100)
      await sleep(500) // for the coordinator to refuse them and log it
    }
    ctx.notes.push(`${held.length} held; frozen 9 s, then resumed (late answers must be refused)`)
  },
}

export const F4: Fault = {
  id: 'F4',
  title: 'cut a worker off the network for 20 s, heal',
  isolatedWorker: true,
  async inject(ctx) {
    const { host, member } = ctx.isolated!
    for (let i = 0; i < 500 && (await member.held()).length === 0; i++) await sleep(10)
    const at = Date.now()
    host.cut()
    // What it holds once cut off: those can no longer be answered.
    const held = await member.held()
    const measured = ctx.measureRequeue(held, at, 20_000)
    await sleep(Math.max(0, at + 20_000 * Math.max(ctx.timeScale, 0.5) - Date.now()))
    host.heal()
    await measured
    const healed = Date.now()
    // Back in: the page notices the silence (3 heartbeats), reconnects and takes jobs again.
    let back = false
    for (let i = 0; i < 300 && !back; i++) {
      back = (await member.held()).length > 0 || (await workerCount(ctx, member.name)) > 0
      if (!back) await sleep(100)
    }
    ctx.notes.push(`${held.length} held; partition ${((healed - at) / 1000).toFixed(0)} s; ${back ? `rejoined ${((Date.now() - healed) / 1000).toFixed(1)} s after healing` : 'did not rejoin'}`)
  },
}

async function workerCount(ctx: FaultContext, name: string): Promise<number> {
  const res = await fetch(`${ctx.api.url}/api/v1/workers`, { headers: ctx.api.headers }).catch(() => undefined)
  if (!res?.ok) return 0
  const { workers } = (await res.json()) as { workers: { name: string | null }[] }
  return workers.filter((w) => w.name?.startsWith(`${name}-`)).length
}

export const F5: Fault = {
  id: 'F5',
  title: 'kill -9 the coordinator mid-run, restart',
  async inject(ctx) {
    const at = Date.now()
    await ctx.coordinator.kill('SIGKILL')
    await sleep(1_000)
    await ctx.coordinator.start()
    ctx.notes.push(`down ${((Date.now() - at) / 1000).toFixed(1)} s`)
  },
}

export const F6: Fault = {
  id: 'F6',
  title: 'stop MariaDB for 10 s × the time scale mid-run',
  privateMariaDb: true,
  // Jobs take a second, so the workers still hold some when the database goes: their answers arrive during
  // the outage and must be kept and applied after it (not lost and redone once a lease expires).
  simulatedJobMs: 1_000,
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
    const { member } = await holder(ctx)
    const at = Date.now()
    await member.drain()
    const gone = Date.now()
    await ctx.fleet.add()
    ctx.notes.push(`drained and gone in ${((gone - at) / 1000).toFixed(1)} s; a new runtime ready ${((Date.now() - gone) / 1000).toFixed(1)} s later`)
  },
}

export const FAULTS: Fault[] = [F1, F2, F3, F4, F5, F6, F11, F13]
