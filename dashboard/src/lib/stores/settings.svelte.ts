// The API key lives in this tab's storage (sessionStorage, or localStorage when asked to remember it),
// never in a URL: the coordinator refuses keys in query strings and URLs end up in logs and history.
const KEY = 'hivesight.apiKey'

function initialKey(): string {
  try {
    return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY) ?? ''
  } catch {
    return ''
  }
}

class Settings {
  apiKey = $state(initialKey())
  remember = $state(localStorage.getItem(KEY) !== null)

  save(key: string, remember: boolean): void {
    this.apiKey = key.trim()
    this.remember = remember
    sessionStorage.removeItem(KEY)
    localStorage.removeItem(KEY)
    if (this.apiKey) (remember ? localStorage : sessionStorage).setItem(KEY, this.apiKey)
  }
}

export const settings = new Settings()
