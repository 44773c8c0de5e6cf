import { Compile } from 'typebox/compile'
import { JobAssign } from '../messages/job-assign.ts'

// Layout: [u32 big-endian header length][header JSON, UTF-8][image bytes].
const HEADER_LENGTH_BYTES = 4
const MAX_HEADER_BYTES = 4096
const checkAssign = Compile(JobAssign)

export function encodeAssignFrame(header: JobAssign, image: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const frame = new Uint8Array(HEADER_LENGTH_BYTES + json.length + image.length)
  new DataView(frame.buffer).setUint32(0, json.length)
  frame.set(json, HEADER_LENGTH_BYTES)
  frame.set(image, HEADER_LENGTH_BYTES + json.length)
  return frame
}

export type DecodedAssign = { ok: true; header: JobAssign; image: Uint8Array } | { ok: false; reason: string }

export function decodeAssignFrame(frame: Uint8Array): DecodedAssign {
  if (frame.length < HEADER_LENGTH_BYTES) return { ok: false, reason: 'frame shorter than its header length' }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const length = view.getUint32(0)
  if (length > MAX_HEADER_BYTES || HEADER_LENGTH_BYTES + length > frame.length) {
    return { ok: false, reason: `bad header length ${length}` }
  }
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder().decode(frame.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + length)))
  } catch {
    return { ok: false, reason: 'header is not JSON' }
  }
  if (!checkAssign.Check(header)) return { ok: false, reason: 'header is not a job.assign' }
  return { ok: true, header, image: frame.subarray(HEADER_LENGTH_BYTES + length) }
}
