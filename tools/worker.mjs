// `npm run worker -- --coordinator http://HOST:8080 [--pages N]`: a worker runtime for another machine.
import { spawn } from 'node:child_process'
import { ROOT, ensureChromium, ensureDependencies } from './bootstrap.mjs'

ensureDependencies()
const chromium = ensureChromium()
if (!chromium) process.exit(1)
const child = spawn(process.execPath, ['--import', 'tsx', 'worker-runtime/src/launcher/cli.ts', ...process.argv.slice(2)], {
  cwd: ROOT, stdio: 'inherit', env: { ...process.env, CHROMIUM_PATH: chromium },
})
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
