import { spawnSync } from 'node:child_process'

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`)
}

/**
 * A test host of our own: a network namespace joined to this machine by a veth pair (10.231.x.0/30,
 * used only between the two ends). `cut` drops all its traffic with nftables, `heal` lets it through.
 */
export class IsolatedHost {
  readonly ns: string
  readonly hostIp: string
  readonly nsIp: string
  readonly hostIf: string
  private readonly table: string

  constructor(id = process.pid % 200, prefix = 'f4') {
    this.ns = `hs-${prefix}-${id}`
    this.hostIf = `hs${prefix}h${id}`
    this.table = `hivesight_${prefix}_${id}`
    this.hostIp = `10.231.${id}.1`
    this.nsIp = `10.231.${id}.2`
  }

  create(): void {
    this.destroy()
    run('ip', ['netns', 'add', this.ns])
    run('ip', ['link', 'add', this.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns])
    run('ip', ['addr', 'add', `${this.hostIp}/30`, 'dev', this.hostIf])
    run('ip', ['link', 'set', this.hostIf, 'up'])
    run('ip', ['netns', 'exec', this.ns, 'ip', 'addr', 'add', `${this.nsIp}/30`, 'dev', 'eth0'])
    run('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', 'eth0', 'up'])
    run('ip', ['netns', 'exec', this.ns, 'ip', 'link', 'set', 'lo', 'up'])
  }

  /** Drop every packet to and from the namespace (no RST, no ICMP: a silent partition). */
  cut(): void {
    if (spawnSync('nft', ['--version']).status !== 0) throw new Error('cutting a host off needs nftables (as root: apt-get install -y nftables)')
    run('nft', ['add', 'table', 'inet', this.table])
    run('nft', ['add', 'chain', 'inet', this.table, 'in', '{ type filter hook input priority -10 ; }'])
    run('nft', ['add', 'chain', 'inet', this.table, 'out', '{ type filter hook output priority -10 ; }'])
    run('nft', ['add', 'rule', 'inet', this.table, 'in', 'iifname', this.hostIf, 'drop'])
    run('nft', ['add', 'rule', 'inet', this.table, 'out', 'oifname', this.hostIf, 'drop'])
  }

  heal(): void {
    spawnSync('nft', ['delete', 'table', 'inet', this.table])
  }

  destroy(): void {
    this.heal()
    spawnSync('ip', ['link', 'del', this.hostIf])
    spawnSync('ip', ['netns', 'del', this.ns])
  }
}
