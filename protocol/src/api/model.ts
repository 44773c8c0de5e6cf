import { Type, type Static } from 'typebox'

// The model repository as clients, the dashboard and worker pages see it.

export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
export const LABEL_NAME_PATTERN = '^[a-z][a-z0-9_-]{0,31}$'
/** What a request names to run on: NAME, NAME@VERSION or NAME@LABEL (groups: the name, then the version or label). */
export const MODEL_SELECTOR_PATTERN = '^([A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:@([A-Za-z0-9_-]{1,32}))?$'
/** The label a request without `?model=NAME@…` uses. */
export const DEFAULT_LABEL = 'default'

/**
 * How a picture becomes the model's input. `shorter-side-then-centre-crop`: shorter side to `resizeShorterTo`,
 * then the centre `inputSize` square (MobileNet's evaluation transform); `centre-crop-then-resize`: the
 * largest centred square, resized to `inputSize` (Teachable Machine); `stretch`: the whole picture resized
 * to the square. Every channel value v (0..255) becomes (v - mean[c]) / std[c].
 */
export const ResizeRule = Type.Union([
  Type.Literal('shorter-side-then-centre-crop'),
  Type.Literal('centre-crop-then-resize'),
  Type.Literal('stretch'),
])
export type ResizeRule = Static<typeof ResizeRule>

export const Preprocessing = Type.Object({
  inputSize: Type.Integer({ minimum: 8, maximum: 1024 }),
  channels: Type.Union([Type.Literal(1), Type.Literal(3)]),
  resize: ResizeRule,
  /** For shorter-side-then-centre-crop only; ≥ inputSize. */
  resizeShorterTo: Type.Optional(Type.Integer({ minimum: 8, maximum: 2048 })),
  mean: Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }),
  std: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 3, maxItems: 3 }),
}, { additionalProperties: false })
export type Preprocessing = Static<typeof Preprocessing>

export const ModelFormat = Type.Union([Type.Literal('graph'), Type.Literal('layers')])
export type ModelFormat = Static<typeof ModelFormat>

export const ModelFileRef = Type.Object({
  path: Type.String(),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  bytes: Type.Integer({ minimum: 0 }),
})
export type ModelFileRef = Static<typeof ModelFileRef>

/**
 * What a worker page fetches to run a version (GET /models/v/{id}/descriptor.json, immutable). Files are
 * at /models/v/{id}/{path}; the page checks each against its sha256 before loading it.
 */
export const ModelDescriptor = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  name: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  format: ModelFormat,
  /** model.json first, then the weight shards in manifest order. */
  files: Type.Array(ModelFileRef),
  preprocessing: Preprocessing,
  /** Number of outputs the model produces (labels + labelOffset). */
  outputs: Type.Integer({ minimum: 1 }),
  /** Leading outputs that are not classes (MobileNet's background = 1); never reported. */
  labelOffset: Type.Integer({ minimum: 0 }),
  /** true: the model outputs logits, the page applies softmax; false: it outputs probabilities already. */
  softmax: Type.Boolean(),
  /** Images sent with the upload whose top-1 the smoke test checks (files beside the model's). */
  golden: Type.Optional(Type.Array(Type.Object({
    path: Type.String(), sha256: Type.String(), bytes: Type.Integer(), contentType: Type.String(), label: Type.String(),
    /** The output index that must come first. */
    expected: Type.Integer({ minimum: 0 }),
  }))),
}, { additionalProperties: false })
export type ModelDescriptor = Static<typeof ModelDescriptor>

export const ModelVersionState = Type.Union([Type.Literal('validating'), Type.Literal('ready'), Type.Literal('failed')])
export type ModelVersionState = Static<typeof ModelVersionState>

/** The exact version a job ran (or will run) on. */
export const ModelRef = Type.Object({ name: Type.String(), version: Type.Integer() })
export type ModelRef = Static<typeof ModelRef>

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const ModelVersionView = Type.Object({
  id: Type.String({ description: 'sha256 of the manifest and the weight shards' }),
  version: Type.Integer(),
  state: ModelVersionState,
  failureReason: Nullable(Type.String()),
  format: ModelFormat,
  classes: Type.Integer(),
  inputSize: Type.Integer(),
  bytes: Type.Integer({ description: 'model.json plus weights' }),
  createdAt: Type.Integer({ description: 'epoch milliseconds' }),
  readyAt: Nullable(Type.Integer()),
  /** Smoke test on a trusted page: load time and one inference, in ms. */
  smoke: Nullable(Type.Object({ loadMs: Type.Number(), inferMs: Type.Number(), worker: Type.String() })),
  /** Workers connected to this coordinator that hold it loaded now. */
  warmOn: Type.Array(Type.String()),
  /** Images per second answered by this version over the last minute (this coordinator). */
  imagesPerSecond: Type.Number(),
  /** Top-1 agreement with other versions, from shadow runs while a label split traffic between them (this coordinator, since it started). */
  agreement: Type.Array(Type.Object({ version: Type.Integer(), agreed: Type.Integer(), compared: Type.Integer() })),
})
export type ModelVersionView = Static<typeof ModelVersionView>

export const LabelView = Type.Object({
  label: Type.String(),
  version: Type.Integer(),
  /** Part of the label's traffic goes to another version (a canary). */
  canary: Nullable(Type.Object({ version: Type.Integer(), percent: Type.Number({ minimum: 0, maximum: 100 }) })),
})
export type LabelView = Static<typeof LabelView>

export const ModelView = Type.Object({
  name: Type.String(),
  labels: Type.Array(LabelView),
  versions: Type.Array(ModelVersionView),
})
export type ModelView = Static<typeof ModelView>

export const ModelList = Type.Object({ models: Type.Array(ModelView) })
export type ModelList = Static<typeof ModelList>

/** PUT /api/v1/models/{name}/labels/{label} */
export const LabelMove = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  canary: Type.Optional(Nullable(Type.Object({ version: Type.Integer({ minimum: 1 }), percent: Type.Number({ minimum: 0, maximum: 100 }) }))),
}, { additionalProperties: false })
export type LabelMove = Static<typeof LabelMove>
