import { createInterface } from 'node:readline'
import sharp from 'sharp'
import { runUploads } from './upload-clients.ts'

// Runs inside a client host's namespace (see client-host.ts): uploads through the balancer, every 202 and
// every answer written to stdout as one JSON line (times in epoch ms); `stop` on stdin ends the load.
const [url, imagesPerRequest, concurrency, requests] = process.argv.slice(2)
let stopped = false
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') stopped = true
})
const write = (m: object) => process.stdout.write(`${JSON.stringify(m)}\n`)
const image = new Uint8Array(await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer())
write({ ready: true })
const started = await runUploads(
  { url: url!, imagesPerRequest: Number(imagesPerRequest), concurrency: Number(concurrency), requests: requests === 'inf' ? Infinity : Number(requests), stopped: () => stopped, image },
  { ack: (key, ids, at) => write({ ack: key, ids, at }), saw: (answer, why) => write(why ? { saw: answer, why } : { saw: answer }) },
)
process.stdout.write(`${JSON.stringify({ done: started })}\n`, () => process.exit(0))
