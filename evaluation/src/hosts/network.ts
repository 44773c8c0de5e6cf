import { run, tryRun } from './sh.ts'

/**
 * The rig's "LAN": one Linux bridge (br-hs, 10.77.0.0/24, this machine at .1) and one network namespace
 * per host, each joined by a veth pair whose two ends are shaped to 100 Mbit/s with `tbf` (this kernel has
 * no netem, so no added delay). Partitions are nftables rules inside a host's namespace, so they vanish
 * with it.
 */
export const BRIDGE = 'br-hs'
export const SUBNET = '10.77.0'
export const GATEWAY = `${SUBNET}.1`
const PREFIX = 'hsg-'

export interface HostSpec {
  name: string
  /** last octet of 10.77.0.x */
  octet: number
}

const FAULT_TABLE = 'hivesight_partition'

export class NetHost {
  readonly ns: string
  readonly ip: string
  private readonly hostIf: string
  private partitioned = false

  constructor(readonly spec: HostSpec) {
    this.ns = `${PREFIX}${spec.name}`
    this.ip = `${SUBNET}.${spec.octet}`
    this.hostIf = `hsv${spec.octet}`
  }

  create(rate: string | null): void {
    run('ip', ['netns', 'add', this.ns])
    run('ip', ['link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns])
    run('ip', ['link', 'set', this.hostIf, 'master', BRIDGE])
    run('ip', ['link', 'set', this.hostIf, 'up'])
    const inNs = (...a: string[]) => run('ip', ['netns', 'exec', this.ns, ...a])
    inNs('ip', 'addr', 'add', `${this.ip}/24`, 'dev', 'eth0')
    inNs('ip', 'link', 'set', 'eth0', 'up')
    inNs('ip', 'link', 'set', 'lo', 'up')
    inNs('ip', 'route', 'add', 'default', 'via', GATEWAY)
    if (rate) {
      // Both directions: the namespace's egress, and the bridge port's egress towards it.
      inNs('tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '50ms')
      run('tc', ['qdisc', 'add', 'dev', this.hostIf, 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '50ms'])
    }
  }

  /** The command line that runs `argv` inside this host. */
  exec(argv: string[]): string[] {
    return ['ip', 'netns', 'exec', this.ns, ...argv]
  }

  /** Silently drops every packet between this host and `peers` (both directions, no RST). */
  partitionFrom(peers: string[]): void {
    const nft = this.faultTable()
    const set = `{ ${peers.join(', ')} }`
    nft('add', 'rule', 'inet', FAULT_TABLE, 'in', 'ip', 'saddr', set, 'drop')
    nft('add', 'rule', 'inet', FAULT_TABLE, 'out', 'ip', 'daddr', set, 'drop')
  }

  /** Silently drops this host's TCP traffic to and from `peer`:`port` only (its other traffic with `peer` flows). */
  partitionFromPort(peer: string, port: number): void {
    const nft = this.faultTable()
    nft('add', 'rule', 'inet', FAULT_TABLE, 'in', 'ip', 'saddr', peer, 'tcp', 'sport', String(port), 'drop')
    nft('add', 'rule', 'inet', FAULT_TABLE, 'out', 'ip', 'daddr', peer, 'tcp', 'dport', String(port), 'drop')
  }

  /**
   * Drops `percent` % of the packets arriving on this host's link, at random (nftables `numgen random`;
   * this kernel has no netem). On arrival, not departure: a drop in the sender's own output hook fails
   * its send() and TCP would not see a loss.
   */
  lossIn(percent: number): void {
    const nft = this.faultTable()
    nft('add', 'rule', 'inet', FAULT_TABLE, 'in', 'iifname', 'eth0', 'numgen', 'random', 'mod', '100', '<', String(percent), 'drop')
  }

  /** The table the faults' rules go in; gone with heal(). */
  private faultTable(): (...a: string[]) => void {
    const nft = (...a: string[]) => run('ip', ['netns', 'exec', this.ns, 'nft', ...a])
    if (!this.partitioned) {
      nft('add', 'table', 'inet', FAULT_TABLE)
      nft('add', 'chain', 'inet', FAULT_TABLE, 'in', '{ type filter hook input priority -10 ; }')
      nft('add', 'chain', 'inet', FAULT_TABLE, 'out', '{ type filter hook output priority -10 ; }')
      this.partitioned = true
    }
    return nft
  }

  heal(): void {
    if (this.partitioned) tryRun('ip', ['netns', 'exec', this.ns, 'nft', 'delete', 'table', 'inet', FAULT_TABLE])
    this.partitioned = false
  }

  destroy(): void {
    this.heal()
    tryRun('ip', ['link', 'del', this.hostIf])
    tryRun('ip', ['netns', 'del', this.ns])
  }
}

export function createBridge(): void {
  destroyLeftovers()
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge'])
  run('ip', ['addr', 'add', `${GATEWAY}/24`, 'dev', BRIDGE])
  run('ip', ['link', 'set', BRIDGE, 'up'])
}

/** Everything of ours that exists (namespaces named hs-*, veths hsv*, the bridge): the leak check. */
export function leftovers(): string[] {
  const ns = run('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(PREFIX))
  const links = run('ip', ['-o', 'link']).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '').filter((n) => n === BRIDGE || /^hsv\d+$/.test(n))
  return [...ns, ...links]
}

/** Removes what a previous run (killed before its teardown) may have left. */
export function destroyLeftovers(): void {
  for (const name of leftovers()) {
    if (name.startsWith(PREFIX)) tryRun('ip', ['netns', 'del', name])
    else tryRun('ip', ['link', 'del', name])
  }
}
