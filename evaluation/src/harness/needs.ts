import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export const isRoot = (): boolean => process.getuid?.() === 0

const works = (cmd: string, args: string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0

let aptUpdated = false

/**
 * A command an evaluation needs: there already, or installed from Debian when we are root (the way
 * `npm start` installs Chromium). Returns why it is missing, or null when it can be used, so a caller
 * can skip the part that needs it with that message and go on.
 */
export function ensureCommand(cmd: string, probe: string[], debPackage: string, log: (m: string) => void = (m) => console.error(m)): string | null {
  if (works(cmd, probe)) return null
  if (!isRoot() || !existsSync('/usr/bin/apt-get')) return `${cmd} is missing (as root: apt-get install -y ${debPackage})`
  log(`installing ${debPackage} from Debian (apt-get install -y ${debPackage})…`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (!aptUpdated) aptUpdated = spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env }).status === 0
  const r = spawnSync('apt-get', ['install', '-y', '-qq', debPackage], { encoding: 'utf8', env })
  if (r.status !== 0 || !works(cmd, probe)) return `${cmd} is missing and apt-get install ${debPackage} failed: ${(r.stderr || '').trim().split('\n').pop() ?? ''}`
  return null
}

export const ensureNftables = (log?: (m: string) => void): string | null => ensureCommand('nft', ['--version'], 'nftables', log)
export const ensureIproute2 = (log?: (m: string) => void): string | null => ensureCommand('ip', ['-V'], 'iproute2', log)
