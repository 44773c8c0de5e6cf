import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const wasmPackageJson = require.resolve('@tensorflow/tfjs-backend-wasm/package.json')

/** Where the coordinator finds what it serves to worker pages. */
export const pageAssets = {
  /** Output of `npm run build`: index.html and assets/ (hashed bundle names). */
  pageDir: resolve(fileURLToPath(new URL('..', import.meta.url)), 'dist/page'),
  /** tfjs-backend-wasm's .wasm binaries, served at /wasm/<version>/ and cached forever. */
  wasmDir: resolve(dirname(wasmPackageJson), 'dist'),
  wasmVersion: (require(wasmPackageJson) as { version: string }).version,
}
