import type { ModelDescriptor } from '@hivesight/protocol'
import { INPUT_SIZE, RESIZE_SHORTER_TO } from '@hivesight/worker-runtime/crop-resize'

/**
 * Volunteers never see the photo: the coordinator prepares the model's input pixels (images/model-input.ts:
 * shorter side to 256, centre 224, RGB) and the tab only normalises them. So a version is for volunteers
 * only if that is its own resize rule; other versions run on trusted pages alone.
 */
export function volunteerCapable(d: ModelDescriptor): boolean {
  const p = d.preprocessing
  return p.channels === 3 && p.inputSize === INPUT_SIZE && p.resize === 'shorter-side-then-centre-crop' && (p.resizeShorterTo ?? RESIZE_SHORTER_TO) === RESIZE_SHORTER_TO
}
