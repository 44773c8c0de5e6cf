import assert from 'node:assert/strict'
import { test } from 'node:test'
import { AppError } from '../../src/errors/app-errors.ts'
import { inspectImage } from '../../src/images/image-inspector.ts'
import { jpeg, tinyPng } from '../support/images.ts'

test('the type and size come from the bytes', () => {
  assert.deepEqual(inspectImage(jpeg()), { contentType: 'image/jpeg', width: 496, height: 368 })
  assert.deepEqual(inspectImage(tinyPng()), { contentType: 'image/png', width: 1, height: 1 })
})

test('empty files, text and unsupported formats are refused with a code', () => {
  const code = (b: Buffer) => {
    try {
      inspectImage(b)
      return 'accepted'
    } catch (e) {
      return e instanceof AppError ? e.code : 'other'
    }
  }
  assert.equal(code(Buffer.alloc(0)), 'IMAGE_INVALID')
  assert.equal(code(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>')), 'UNSUPPORTED_IMAGE_TYPE')
  assert.equal(code(Buffer.from('BM' + '\0'.repeat(60))), 'UNSUPPORTED_IMAGE_TYPE')
})

/** The smallest GIF: header, logical screen of `w` × `h`, an empty image. */
function gif(w: number, h: number): Buffer {
  const b = Buffer.from('474946383961000000000000002c00000000010001000002024401003b', 'hex')
  b.writeUInt16LE(w, 6)
  b.writeUInt16LE(h, 8)
  return b
}

/** A WebP container with a VP8X (extended) header giving a `w` × `h` canvas. */
function webp(w: number, h: number): Buffer {
  const vp8x = Buffer.alloc(18)
  vp8x.write('VP8X', 0, 'ascii')
  vp8x.writeUInt32LE(10, 4)
  vp8x.writeUIntLE(w - 1, 12, 3)
  vp8x.writeUIntLE(h - 1, 15, 3)
  const riff = Buffer.alloc(12)
  riff.write('RIFF', 0, 'ascii')
  riff.writeUInt32LE(4 + vp8x.length, 4)
  riff.write('WEBP', 8, 'ascii')
  return Buffer.concat([riff, vp8x])
}

test('WebP and GIF are told from their bytes, whatever the name says; their claimed size is checked too', { timeout: 5_000 }, () => {
  assert.deepEqual(inspectImage(gif(320, 200)), { contentType: 'image/gif', width: 320, height: 200 })
  assert.deepEqual(inspectImage(webp(640, 480)), { contentType: 'image/webp', width: 640, height: 480 })
  assert.throws(() => inspectImage(webp(16_000, 16_000)), (e) => e instanceof AppError && e.code === 'IMAGE_TOO_MANY_PIXELS')
  assert.throws(() => inspectImage(gif(65_535, 2)), (e) => e instanceof AppError && e.code === 'IMAGE_TOO_MANY_PIXELS')
})
