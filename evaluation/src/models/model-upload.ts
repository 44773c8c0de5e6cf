import type { ModelVersionView, ModelView } from '@hivesight/protocol'
import sharp from 'sharp'

/** A model's files as `npm run models -- add` sends them: one multipart upload, the name first. */
export async function uploadModel(url: string, name: string, files: { name: string; bytes: Buffer }[], opts: { label?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: unknown }> {
  const form = new FormData()
  form.append('name', name)
  if (opts.label) form.append('label', opts.label)
  for (const f of files) form.append('files', new Blob([new Uint8Array(f.bytes)]), f.name)
  const res = await fetch(`${url}/api/v1/models`, { method: 'POST', body: form, headers: opts.headers })
  return { status: res.status, body: await res.json() }
}

/** Polls a version until it leaves `validating` (the smoke test on a page is over). */
export async function waitForState(url: string, name: string, version: number, timeoutMs = 60_000, headers?: Record<string, string>): Promise<ModelVersionView> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const res = await fetch(`${url}/api/v1/models/${name}`, { headers })
    const v = res.ok ? ((await res.json()) as ModelView).versions.find((x) => x.version === version) : undefined
    if (v && v.state !== 'validating') return v
    if (Date.now() > end) throw new Error(`${name} v${version} still ${v?.state ?? 'unknown'} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A small PNG of one colour with a little noise (so it is a photo-like picture, not one flat value). */
export async function colourPicture(rgb: [number, number, number], width = 64, height = 48): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3)
  for (let i = 0; i < raw.length; i++) raw[i] = Math.max(0, Math.min(255, rgb[i % 3]! + ((i * 7919) % 21) - 10))
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer()
}
