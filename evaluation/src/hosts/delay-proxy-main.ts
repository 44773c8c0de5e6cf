import { createInterface } from 'node:readline'
import { DelayProxy, parseRoute, type Route } from './delay-proxy.ts'

// Runs inside a host's namespace (ip netns exec): a DelayProxy for that host's links, since this kernel
// has no netem.
//   node --import tsx evaluation/src/hosts/delay-proxy-main.ts <listenHost> <listenPort>=<targetHost>:<targetPort> ...
// Prints {"ready":true} once listening. Commands on stdin, one a line: `delay <ms> <jitterMs>`, answered
// with {"delay":ms,"jitter":j} once applied. stdin must be a pipe: its end (the parent gone) stops the
// proxy, as SIGTERM does.
const [host, ...args] = process.argv.slice(2)
let routes: Route[] = []
try {
  routes = args.map(parseRoute)
} catch (err) {
  console.error((err as Error).message)
}
if (!host || routes.length === 0) {
  console.error('usage: delay-proxy-main.ts <listenHost> <listenPort>=<targetHost>:<targetPort> [...]')
  process.exit(2)
}

const proxy = new DelayProxy(host, routes)
let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  void proxy.close().finally(() => process.stdout.write('', () => process.exit(0)))
}
process.once('SIGTERM', stop)

const reply = (m: object) => process.stdout.write(`${JSON.stringify(m)}\n`)
await proxy.listen().catch((err: Error) => {
  console.error(`delay-proxy: ${err.message}`)
  process.exit(1)
})
reply({ ready: true })

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const m = /^delay\s+(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)$/.exec(line.trim())
    if (m) {
      proxy.setDelay(Number(m[1]), Number(m[2]))
      reply({ delay: Number(m[1]), jitter: Number(m[2]) })
    } else if (line.trim() !== '') {
      reply({ error: `unknown command ${JSON.stringify(line)}; expected: delay <ms> <jitterMs>` })
    }
  })
  .on('close', stop)
