import { existsSync } from 'node:fs'

const CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
]

export class ChromiumNotFound extends Error {
  constructor() {
    super(
      'no Chromium found. Install one (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH ' +
      'to a Chrome/Chromium executable. Browsers downloaded by `npx playwright install` work too.',
    )
  }
}

/** CHROMIUM_PATH, else the usual install locations. */
export function findChromium(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): string {
  if (env.CHROMIUM_PATH) {
    if (!exists(env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} does not exist`)
    return env.CHROMIUM_PATH
  }
  const found = CANDIDATES.find(exists)
  if (!found) throw new ChromiumNotFound()
  return found
}
