// Pure rules for when a job's answer may become final. No I/O: the answer recorder applies them under
// lock, and the sabotage simulation (evaluation/src/sabotage) runs the very same functions.

/** One worker's answer to a job, as far as verification cares. */
export interface Opinion {
  /** Who answered: a join link's name (every tab of one link is one identity), a runtime's session name. */
  identity: string
  /** The /24 (IPv4) or /48 (IPv6) it answered from; null when unknown. */
  network: string | null
  trusted: boolean
  /** The top-1 class index. */
  top1: number
}

/**
 * 'quorum' (the default, also in open mode): a volunteer's answer is final only once a trusted worker or an
 * independent volunteer agrees. 'accept': volunteers are believed on their own (a private deployment).
 */
export type VolunteerPolicy = 'quorum' | 'accept'

export type Verdict =
  /** `accepted` is the answer; `contradicted` gave another top-1, `agreed` the same one. */
  | { kind: 'final'; accepted: Opinion; agreed: Opinion[]; contradicted: Opinion[] }
  /** One answer so far: it needs a trusted worker or an independent volunteer to agree. */
  | { kind: 'confirm'; pending: Opinion }
  /** Volunteers disagree: only a trusted worker decides. */
  | { kind: 'settle'; pending: Opinion }

/**
 * Two answers are independent when they come from different identities on different networks (a botnet
 * on one /24 cannot confirm itself). An unknown network is independent of nothing.
 */
export function independent(a: Pick<Opinion, 'identity' | 'network'>, b: Pick<Opinion, 'identity' | 'network'>): boolean {
  return a.identity !== b.identity && a.network !== null && b.network !== null && a.network !== b.network
}

/** What the answers given so far (oldest first, at least one) make of a job. */
export function judge(opinions: readonly Opinion[], policy: VolunteerPolicy): Verdict {
  const first = opinions[0]
  if (!first) throw new Error('judge needs at least one opinion')
  const split = (accepted: Opinion): Verdict => ({
    kind: 'final',
    accepted,
    agreed: opinions.filter((o) => o !== accepted && o.top1 === accepted.top1),
    contradicted: opinions.filter((o) => o.top1 !== accepted.top1),
  })
  // A trusted worker's word is final, whatever volunteers said before it.
  const trusted = opinions.find((o) => o.trusted)
  if (trusted) return split(trusted)
  if (policy === 'accept') return split(first)
  for (let i = 0; i < opinions.length; i++) {
    for (let j = i + 1; j < opinions.length; j++) {
      const [a, b] = [opinions[i]!, opinions[j]!]
      if (a.top1 === b.top1 && independent(a, b)) return split(a)
    }
  }
  return opinions.some((o) => o.top1 !== first.top1) ? { kind: 'settle', pending: first } : { kind: 'confirm', pending: first }
}

/** Whether a worker may give the next answer to a job in this state (the claim query says the same in SQL). */
export function mayAnswer(worker: Pick<Opinion, 'identity' | 'network' | 'trusted'>, state: { pending: Opinion | null; needsTrusted: boolean; volunteersAllowed: boolean }): boolean {
  if (worker.trusted) return true
  if (!state.volunteersAllowed || state.needsTrusted) return false
  return state.pending === null || independent(worker, state.pending)
}

/** The network an address belongs to, for independence: IPv4 /24, IPv6 /48 (IPv4-mapped IPv6 as IPv4). */
export function networkOf(address: string | null | undefined): string | null {
  if (!address) return null
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(address)
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`
  if (!address.includes(':')) return null
  const [head = '', tail = ''] = address.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/48`
}
