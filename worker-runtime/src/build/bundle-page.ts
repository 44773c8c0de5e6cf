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
  entryPoints: { worker: resolve(root, 'src/page/main.ts'), inference: resolve(root, 'src/page/inference-worker.ts') },
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
const output = (entry: string) => {
  const file = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith(entry))?.[0]
  if (!file) throw new Error(`esbuild produced no JavaScript for ${entry}`)
  return file
}
const js = output('src/page/main.ts')
const inference = output('src/page/inference-worker.ts')

writeFileSync(resolve(outDir, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hivesight worker</title>
<meta name="hivesight-inference" content="/worker/assets/${basename(inference)}">
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
const kib = (file: string) => Math.round(result.metafile.outputs[file]!.bytes / 1024)
console.log(`worker page built in ${Date.now() - started} ms: page ${basename(js)} (${kib(js)} KiB), inference worker ${basename(inference)} (${kib(inference)} KiB)`)
