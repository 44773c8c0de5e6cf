import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO_ROOT } from '@hivesight/coordinator'
import { readLabelledDataset, spreadSample } from '../dataset/labelled-dataset.ts'
import { ensureIproute2, ensureNftables, isRoot } from '../harness/needs.ts'
import { writeChart } from '../report/charts.ts'
import { loadResults, saveResults } from '../report/results-store.ts'
import { runLossExperiment, type LossRow } from './loss-run.ts'
import { formatLossTable, lossChart } from './loss-table.ts'

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: resolve(REPO_ROOT, '../shared/datasets/imagenet-val-dev') },
    rates: { type: 'string', default: '0,0.067,0.13,0.2,0.27,0.33,0.4,0.47,0.53,0.6' },
    images: { type: 'string', default: '100' },
    'link-mbit': { type: 'string', default: '100' },
    'both-ways': { type: 'boolean', default: false },
    clients: { type: 'string', default: 'student,ours', description: 'student, ours, ours-photo (ours sending the photo as it is)' },
    inflight: { type: 'string', default: '16' },
    'deadline-s': { type: 'string', default: '600' },
    'rto-min-ms': { type: 'string', default: '10' },
    merge: { type: 'boolean', default: false },
    'save-as': { type: 'string', description: 'results name under evaluation/results (default loss, or loss-both-ways)' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(`usage: npm run eval:loss -- [--dataset DIR] [--rates 0,0.067,…] [--images 100] [--link-mbit 100] [--both-ways]
                     [--clients student,ours,ours-default-tcp,ours-rto-only,ours-photo,ours-shrunk,ours-no-race,ours-4,ours-hedged] [--inflight 16] [--rto-min-ms 10] [--deadline-s 600]
                     [--save-as loss-variants] [--merge]

The student project's packet-loss experiment (needs root): the client in a network namespace of its own,
joined to the coordinator's by a veth pair limited to --link-mbit each way (tc tbf), packets client →
coordinator dropped at random at each rate (nftables numgen; --both-ways: also coordinator → client), the
coordinator and local headless workers as npm start runs them. Clients: "student" (its tests/start_test.py
reproduced: sequential, 3 s timeout, no retry, 5 s pause and skip on an error), "ours" (Idempotency-Key,
retries with back-off, --inflight uploads at once, results by ?wait= long-poll, photos sent as they are
until the link loses packets (over 30 % of TCP segments resent) and model-sized from then on (shorter
side 256 with the pages' own resize, JPEG q95: what the model reads, half the bytes), a new connection
raced by a second and third when not made in 0.5 s, and the client host's TCP set for loss: a
retransmission floor of --rto-min-ms on this link, \`ip route … rto_min\`, and linear timeouts,
net.ipv4.tcp_thin_linear_timeouts and tcp_syn_linear_timeouts). Each of these differs from "ours" in one
thing: "ours-default-tcp" (the kernel's TCP defaults), "ours-rto-only" (no linear timeouts),
"ours-photo" (never model-sized), "ours-shrunk" (always), "ours-no-race" (one connection attempt at a
time), "ours-4" (4 in flight), "ours-hedged" (a second and third copy of an upload not
answered in 3 and 6 s, same Idempotency-Key).
Goodput = accepted uploads ÷ upload phase, throughput = upload requests sent ÷ the same (the student
project's definitions). Lost = acknowledged, never final; duplicated = a retry that made a second job.
--merge: this run's rows replace those of the same rate and client in the saved results, the others are
kept (e.g. to measure one client again without the slow student client). The last stdout line is one JSON object {"rows":[ours…],"seedLike":[student…],"variants":[…]}.`)
  process.exit(0)
}

const say = (m: string) => console.error(m)
const emit = (o: object) => console.log(JSON.stringify(o))
const why = !isRoot() ? 'needs root (a network namespace, tc and nftables); skipped' : ensureIproute2(say) ?? ensureNftables(say)
  ?? (spawnSync('tc', ['-V']).status === 0 ? null : 'tc (iproute2) is missing; skipped')
if (why) {
  say(`eval:loss ${why.startsWith('needs') ? why : `${why}; skipped`}`)
  emit({ rows: [], seedLike: [], skipped: why })
  process.exit(0)
}

const rates = values.rates.split(',').map(Number)
if (rates.some((r) => !(r >= 0 && r < 1))) throw new Error(`--rates must be fractions in [0, 1): ${values.rates}`)
// Photos the size of ILSVRC2012 originals (val-227 are resized copies, a quarter of the bytes).
const photos = readLabelledDataset(values.dataset).filter((i) => i.subset !== 'val-227')
const images = spreadSample(photos, Number(values.images))
// Our client's host: a 10 ms retransmission floor and linear timeouts for thin streams (see LossyLink).
const tcp = { rtoMinMs: Number(values['rto-min-ms']), thinLinear: true }
// "ours" and its one-factor variants.
const ours = (o: { inflight?: string; shrink?: string; raceMs?: string; hedgeMs?: string } = {}) => [
  '--inflight', o.inflight ?? values.inflight, '--shrink', o.shrink ?? 'auto', '--race-connect-ms', o.raceMs ?? '500', '--hedge-ms', o.hedgeMs ?? '0']
const variants = values.clients.split(',').map((c) => c.trim()).map((name) => {
  if (name === 'student') return { name: 'student client', mode: 'student' as const, args: [] }
  if (name === 'ours') return { name: 'ours', mode: 'ours' as const, args: ours(), tcp }
  if (name === 'ours-default-tcp') return { name: 'ours, default TCP', mode: 'ours' as const, args: ours() }
  if (name === 'ours-rto-only') return { name: 'ours, rto_min only', mode: 'ours' as const, args: ours(), tcp: { rtoMinMs: tcp.rtoMinMs } }
  if (name === 'ours-photo') return { name: 'ours, photos as they are', mode: 'ours' as const, args: ours({ shrink: 'never' }), tcp }
  if (name === 'ours-shrunk') return { name: 'ours, all model-sized', mode: 'ours' as const, args: ours({ shrink: 'always' }), tcp }
  if (name === 'ours-no-race') return { name: 'ours, no racing connects', mode: 'ours' as const, args: ours({ raceMs: '0' }), tcp }
  if (name === 'ours-hedged') return { name: 'ours, hedged copies', mode: 'ours' as const, args: ours({ hedgeMs: '3000' }), tcp }
  if (name === 'ours-4') return { name: 'ours, 4 in flight', mode: 'ours' as const, args: ours({ inflight: '4' }), tcp }
  throw new Error(`unknown client ${name} (student, ours, ours-default-tcp, ours-rto-only, ours-photo, ours-shrunk, ours-no-race, ours-4, ours-hedged)`)
})
say(`eval:loss: ${images.length} images per rate, rates ${rates.join(', ')}, ${values['link-mbit']} Mbit/s, loss ${values['both-ways'] ? 'both ways' : 'client → coordinator'}`)
const rows: LossRow[] = []
let failure: string | null = null
try {
  await runLossExperiment({
    images, rates, mbit: Number(values['link-mbit']), bothWays: values['both-ways'], variants,
    deadlineS: Number(values['deadline-s']), log: say,
  }, (row) => {
    rows.push(row)
    say(`  → goodput ${row.goodput.toFixed(2)}/s, accepted ${row.accepted}/${row.submitted}, completed ${row.completed}, lost ${row.lost}, dup ${row.duplicated}`)
  })
} catch (err) {
  // A partial run still prints and draws what it has.
  failure = err instanceof Error ? err.message : String(err)
  say(`eval:loss stopped early: ${failure}`)
}
const name = values['save-as'] ?? (values['both-ways'] ? 'loss-both-ways' : 'loss')
if (values.merge) {
  const before = loadResults<{ rows: LossRow[]; seedLike: LossRow[]; variants: LossRow[] }>(name)?.data
  const fresh = (r: LossRow) => !rows.some((n) => n.loss === r.loss && n.variant === r.variant)
  const kept = before ? [...before.seedLike, ...before.rows, ...before.variants].filter(fresh) : []
  rows.unshift(...kept)
  rows.sort((a, b) => a.loss - b.loss)
}
const out = {
  rows: rows.filter((r) => r.variant === 'ours'),
  seedLike: rows.filter((r) => r.variant === 'student client'),
  variants: rows.filter((r) => r.variant !== 'ours' && r.variant !== 'student client'),
  bothWays: values['both-ways'], linkMbit: Number(values['link-mbit']), imagesPerRate: images.length,
  ...(failure ? { failure } : {}),
}
if (rows.length > 0) {
  say(`\n${formatLossTable(rows)}`)
  say(`chart: ${await writeChart(name, lossChart(rows, values['both-ways']))}`)
  say(`results: ${saveResults(name, 'eval:loss', out)}`)
}
emit(out)
process.exit(failure ? 1 : 0)
