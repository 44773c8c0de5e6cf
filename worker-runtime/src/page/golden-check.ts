import type { ClassScore, ModelDescriptor } from '@hivesight/protocol'

/**
 * The smoke test's second half: each golden image sent with the version must come out with its class
 * first. Returns why not, or undefined when every one did (or there are none).
 */
export async function checkGolden(
  d: ModelDescriptor,
  base: string,
  classify: (bytes: Uint8Array, contentType: string) => Promise<ClassScore[]>,
): Promise<string | undefined> {
  for (const g of d.golden ?? []) {
    const res = await fetch(`${base}${d.id}/${g.path}`)
    if (!res.ok) return `could not fetch the golden image ${g.path} (HTTP ${res.status})`
    const top = await classify(new Uint8Array(await res.arrayBuffer()), g.contentType)
    const first = top[0]
    if (!first || first.index !== g.expected) {
      return `golden image ${g.path}: the top-1 was output ${first?.index ?? 'none'} (score ${first?.score.toFixed(3) ?? '-'}), not "${g.label}" (output ${g.expected})`
    }
  }
  return undefined
}
