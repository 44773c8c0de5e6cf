import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

// Bundles the worker page for the browser: dist/page/index.html + assets/worker-<hash>.js. The hash in
// the name lets the coordinator cache the bundle forever; index.html itself is served no-cache.
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const outDir = resolve(root, 'dist/page')
rmSync(outDir, { recursive: true, force: true })
mkdirSync(resolve(outDir, 'assets'), { recursive: true })

const started = Date.now()
const result = await build({
  entryPoints: { worker: resolve(root, 'src/page/main.ts') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  entryNames: '[name]-[hash]',
  outdir: resolve(outDir, 'assets'),
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
})
const js = Object.keys(result.metafile.outputs).find((f) => f.endsWith('.js'))
if (!js) throw new Error('esbuild produced no JavaScript')

writeFileSync(resolve(outDir, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hivesight worker</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem; color: #1d2433; }
  #status { font-family: ui-monospace, monospace; padding: .6rem .8rem; background: #f2f4f8; border-radius: 6px; display: inline-block; }
</style>
</head>
<body>
<h1>Hivesight worker</h1>
<p>This tab classifies images for the coordinator that served it, using MobileNet V2 on WebAssembly. Close the tab to stop.</p>
<p id="status">starting</p>
<script type="module" src="/worker/assets/${basename(js)}"></script>
</body>
</html>
`)
const kib = Math.round(result.metafile.outputs[js]!.bytes / 1024)
console.log(`worker page built in ${Date.now() - started} ms: dist/page/assets/${basename(js)} (${kib} KiB)`)
