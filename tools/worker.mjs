// `npm run worker -- --coordinator http://HOST:8080 [--pages N]`: a worker runtime for another machine.
import { spawn } from 'node:child_process'
import { ROOT, buildWorkerPage, ensureChromium, ensureDependencies } from './bootstrap.mjs'

ensureDependencies()
const chromium = ensureChromium()
if (!chromium) process.exit(1)
// Builds the runtime bundle, which runs on plain node (and the page, in case this host also serves it).
buildWorkerPage()
const child = spawn(process.execPath, ['worker-runtime/dist/runtime/cli.mjs', ...process.argv.slice(2)], {
  cwd: ROOT, stdio: 'inherit', env: { ...process.env, CHROMIUM_PATH: chromium },
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
