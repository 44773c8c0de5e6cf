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
