import { spawnSync } from 'node:child_process'
import { IsolatedHost } from '../faults/netns.ts'

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`)
}

/**
 * The client's own host: a network namespace joined to the coordinator's by a veth pair, each end rate
 * limited with tc tbf, and packets dropped at random as they arrive (nftables netdev ingress with
 * `numgen random`: this kernel has no tc netem). Dropping on ingress, after the sender has put the packet
 * on the wire, is what a lossy link does; a drop in the sender's own output hook would instead fail the
 * send() locally and TCP would not see a loss.
 */
export class LossyLink {
  readonly host: IsolatedHost
  private readonly table: string

  constructor(id = (process.pid % 150) + 50) {
    this.host = new IsolatedHost(id, 'ls')
    this.table = `hivesight_loss_${id}`
  }

  get ns(): string {
    return this.host.ns
  }

  /** Creates the pair with `mbit` each way (tbf: ~1 ms of burst at that rate, 50 ms of queue). */
  create(mbit: number): void {
    this.host.create()
    const burst = `${Math.max(16, Math.ceil((mbit * 1e6) / 8 / 1000 / 1024) * 4)}kb`
    run('tc', ['qdisc', 'replace', 'dev', this.host.hostIf, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', burst, 'latency', '50ms'])
    run('ip', ['netns', 'exec', this.ns, 'tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', burst, 'latency', '50ms'])
  }

  /**
   * Drops `loss` of the packets client → coordinator (arriving on the host's end), and with `bothWays`
   * also coordinator → client (arriving on the namespace's end). 0 removes the drop.
   */
  setLoss(loss: number, bothWays: boolean): void {
    this.clearLoss()
    if (loss <= 0) return
    const perMille = String(Math.round(loss * 1000))
    const rule = (inNs: boolean, dev: string) => {
      const nft = (...args: string[]) => (inNs ? run('ip', ['netns', 'exec', this.ns, 'nft', ...args]) : run('nft', args))
      nft('add', 'table', 'netdev', this.table)
      nft('add', 'chain', 'netdev', this.table, 'lossy', `{ type filter hook ingress device ${dev} priority 0 ; }`)
      nft('add', 'rule', 'netdev', this.table, 'lossy', 'numgen', 'random', 'mod', '1000', '<', perMille, 'drop')
    }
    rule(false, this.host.hostIf)
    if (bothWays) rule(true, 'eth0')
  }

  /**
   * The TCP settings on this link, mainly the client host's (null/false: the kernel's defaults). `rtoMinMs`: the floor
   * of the retransmission timeout (`ip route … rto_min`; 200 ms by default, and on a sub-millisecond link
   * the RTO sits at that floor). `thinLinear`: net.ipv4.tcp_thin_linear_timeouts, so a connection with
   * few packets in flight (what heavy loss leaves) retransmits 6 times at a steady RTO before doubling it;
   * with a segment lost 60 % of the time, doubling after each loss gives waits with no finite mean. The
   * same for SYNs (net.ipv4.tcp_syn_linear_timeouts, 4 by default): resent every second 10 times before
   * the wait doubles, instead of 4. The coordinator's host gets the same floor on its route to the client
   * (what an operator can set per route, and what the answers need when they are lost too, --both-ways);
   * its sysctls are the machine's and are left alone.
   */
  setLinkTcp(o: { rtoMinMs?: number; thinLinear?: boolean }): void {
    const net = this.host.hostIp.replace(/\.1$/, '.0/30')
    const rto = o.rtoMinMs ? ['rto_min', `${o.rtoMinMs}ms`] : []
    const inNs = (...args: string[]) => run('ip', ['netns', 'exec', this.ns, ...args])
    inNs('ip', 'route', 'replace', net, 'dev', 'eth0', 'src', this.host.nsIp, ...rto)
    run('ip', ['route', 'replace', net, 'dev', this.host.hostIf, 'src', this.host.hostIp, ...rto])
    inNs('sysctl', '-q', '-w', `net.ipv4.tcp_thin_linear_timeouts=${o.thinLinear ? 1 : 0}`)
    inNs('sysctl', '-q', '-e', '-w', `net.ipv4.tcp_syn_linear_timeouts=${o.thinLinear ? 10 : 4}`, `net.ipv4.tcp_syn_retries=${o.thinLinear ? 10 : 6}`)
  }

  clearLoss(): void {
    spawnSync('nft', ['delete', 'table', 'netdev', this.table], { stdio: 'ignore' })
    spawnSync('ip', ['netns', 'exec', this.ns, 'nft', 'delete', 'table', 'netdev', this.table], { stdio: 'ignore' })
  }

  /** Removes the drop rules, the qdiscs (they go with the veth) and the namespace; safe to call twice. */
  destroy(): void {
    this.clearLoss()
    spawnSync('tc', ['qdisc', 'del', 'dev', this.host.hostIf, 'root'], { stdio: 'ignore' })
    this.host.destroy()
  }
}
