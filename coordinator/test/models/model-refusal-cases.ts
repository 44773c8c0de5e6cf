import type { ModelRule, UploadedModelFile, ValidationLimits } from '../../src/models/model-validator.ts'
import { makeTeachableModel } from '../support/teachable-model.ts'
import { drop, editJson, editModel, layersOf, mobilenetUpload, put } from './model-upload-fixtures.ts'

// Broken variants of valid uploads (the Teachable Machine fixture, or MobileNet for the graph-only rules),
// one or more per refusal rule: the validator's tests and the upload route's both go through them.

export const LIMITS: ValidationLimits = { maxModelBytes: 50_000_000, maxClasses: 2000 }
export const tm = (await makeTeachableModel()).files
export const mn = mobilenetUpload
export const text = (s: string) => Buffer.from(s)
const withHivesight = (files: UploadedModelFile[], doc: unknown) => put(files, 'hivesight.json', text(JSON.stringify(doc)))
const editHivesight = (edit: (doc: Record<string, unknown>) => void) => editJson(mn(), 'hivesight.json', edit)

export interface Case { title: string; rule: ModelRule; file: string; files: () => UploadedModelFile[]; limits?: ValidationLimits; message?: RegExp }

export const cases: Case[] = [
  { title: 'no model.json', rule: 'missing-file', file: 'model.json', files: () => drop(tm, 'model.json') },
  { title: 'no manifest at all', rule: 'missing-file', file: 'hivesight.json', files: () => drop(tm, 'metadata.json'), message: /metadata\.json/ },
  { title: 'a listed shard not uploaded', rule: 'missing-file', file: 'group1-shard4of4.bin', files: () => drop(mn(), 'group1-shard4of4.bin') },
  { title: 'model.json cut short', rule: 'bad-json', file: 'model.json', files: () => put(tm, 'model.json', text('{"format": "layers-model",')) },
  { title: 'metadata.json not JSON', rule: 'bad-json', file: 'metadata.json', files: () => put(tm, 'metadata.json', text('labels: [red, green]')) },
  { title: 'an unknown format', rule: 'unknown-format', file: 'model.json', files: () => editModel(tm, (m) => { m.format = 'keras-h5' }), message: /keras-h5/ },
  {
    title: 'no format and an unrecognisable topology', rule: 'unknown-format', file: 'model.json',
    files: () => editModel(tm, (m) => {
      delete m.format
      m.modelTopology = {}
    }),
  },
  {
    title: 'a shard path leaving the folder', rule: 'shard-path', file: '../weights.bin',
    files: () => editModel(tm, (m) => { m.weightsManifest[0]!.paths = ['../weights.bin'] }),
  },
  {
    title: 'a shard path with a folder', rule: 'shard-path', file: 'sub\\weights.bin',
    files: () => editModel(tm, (m) => { m.weightsManifest[0]!.paths = ['sub\\weights.bin'] }),
  },
  {
    title: 'a truncated shard', rule: 'shard-size', file: 'weights.bin', message: /44 bytes.*48 bytes/,
    files: () => put(tm, 'weights.bin', tm.find((f) => f.name === 'weights.bin')!.bytes.subarray(0, 44)),
  },
  {
    title: 'a string weight', rule: 'string-weights', file: 'model.json', message: /dense_1\/bias/,
    files: () => editModel(tm, (m) => { m.weightsManifest[0]!.weights[1]!.dtype = 'string' }),
  },
  {
    title: 'layers: input size other than imageSize', rule: 'input-shape', file: 'model.json', message: /\[-1, 224, 224, 3\].*\[-1, 96, 96, 3\]/,
    files: () => editJson(tm, 'metadata.json', (d) => { d.imageSize = 96 }),
  },
  {
    title: 'graph: signature input other than input.size', rule: 'input-shape', file: 'model.json',
    files: () => editHivesight((d) => { d.input = { size: 192, range: [0, 1] } }),
  },
  {
    title: 'graph without signature: Placeholder channels other than input.channels', rule: 'input-shape', file: 'model.json', message: /images/,
    files: () => editModel(editHivesight((d) => { d.input = { size: 224, channels: 1, range: [0, 1] } }), (m) => { delete m.signature }),
  },
  {
    title: 'layers: a label more than Dense units', rule: 'output-size', file: 'model.json', message: /3 outputs.*describes 4/,
    files: () => editJson(tm, 'metadata.json', (d) => { d.labels = ['red', 'green', 'blue', 'grey'] }),
  },
  {
    title: 'graph: labels without the background offset', rule: 'output-size', file: 'model.json', message: /1001 outputs.*describes 1000/,
    files: () => editHivesight((d) => { delete d.labelOffset }),
  },
  {
    title: 'layers: an unregistered layer class', rule: 'unsupported-op', file: 'model.json', message: /MyFancyLayer/,
    files: () => editModel(tm, (m) => { layersOf(m)[1]!.class_name = 'MyFancyLayer' }),
  },
  { title: 'a .js file', rule: 'code', file: 'evil.js', files: () => put(tm, 'evil.js', text('globalThis.x = 1')) },
  { title: 'a manifest that is a script', rule: 'code', file: 'metadata.json', files: () => put(tm, 'metadata.json', text('#!/bin/sh\nrm -rf /\n')) },
  { title: 'a model.json that is HTML', rule: 'code', file: 'model.json', files: () => put(tm, 'model.json', text('\n  <html><script>alert(1)</script></html>')) },
  {
    title: 'a Lambda layer', rule: 'code', file: 'model.json', message: /Lambda/,
    files: () => editModel(tm, (m) => { layersOf(m).splice(1, 0, { class_name: 'Lambda', config: { name: 'lam', function: 'lambda x: x' } }) }),
  },
  {
    title: 'a code field in a layer config', rule: 'code', file: 'model.json', message: /"code"/,
    files: () => editModel(tm, (m) => { layersOf(m)[1]!.config.activation = { class_name: 'Custom', config: { code: 'x => x' } } }),
  },
  { title: 'over the byte limit', rule: 'too-large', file: '(all files)', files: () => tm, limits: { maxModelBytes: 1000, maxClasses: 10 } },
  { title: 'over the class limit', rule: 'too-large', file: 'metadata.json', files: () => tm, limits: { maxModelBytes: 1e9, maxClasses: 2 } },
  {
    title: 'hivesight.json without input.size', rule: 'manifest', file: 'hivesight.json', message: /input/,
    files: () => withHivesight(tm, { labels: ['red', 'green', 'blue'], input: { range: [-1, 1] } }),
  },
  {
    title: 'a misspelt hivesight.json field', rule: 'manifest', file: 'hivesight.json', message: /labeloffset/,
    files: () => withHivesight(tm, { labels: ['red', 'green', 'blue'], labeloffset: 1, input: { size: 224 } }),
  },
  {
    title: 'range and mean/std together', rule: 'manifest', file: 'hivesight.json', message: /range/,
    files: () => withHivesight(tm, { labels: ['red', 'green', 'blue'], input: { size: 224, range: [0, 1], mean: [0, 0, 0], std: [1, 1, 1] } }),
  },
  { title: 'duplicate labels', rule: 'manifest', file: 'metadata.json', message: /"red"/, files: () => editJson(tm, 'metadata.json', (d) => { d.labels = ['red', 'red', 'blue'] }) },
  { title: 'a label over 200 characters', rule: 'manifest', file: 'metadata.json', files: () => editJson(tm, 'metadata.json', (d) => { d.labels = ['red', 'g'.repeat(201), 'blue'] }) },
  { title: 'a file nobody reads', rule: 'unexpected-file', file: 'notes.txt', files: () => put(tm, 'notes.txt', text('trained on my cat')) },
  { title: 'a file uploaded twice', rule: 'unexpected-file', file: 'weights.bin', files: () => [...tm, tm.find((f) => f.name === 'weights.bin')!] },
]

