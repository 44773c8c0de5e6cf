import type { CDPSession } from 'playwright-core'

/**
 * Worker pages as bare DevTools targets in Chromium's default context, which Playwright does not attach to.
 * A page Playwright drives has the Network domain on, so every job frame (a whole image) came back over the
 * DevTools pipe as base64: ~4 ms of browser and runtime CPU per image. These targets send nothing unless
 * asked; the runtime reads their title to know how they are doing and attaches only to evaluate.
 */
export class PageTargets {
  private nextId = 1

  constructor(private readonly cdp: CDPSession) {}

  static async of(cdp: CDPSession, events: { crashed(targetId: string): void; destroyed(targetId: string): void }): Promise<PageTargets> {
    await cdp.send('Target.setDiscoverTargets', { discover: true })
    cdp.on('Target.targetCrashed', (e) => events.crashed(e.targetId))
    cdp.on('Target.targetDestroyed', (e) => events.destroyed(e.targetId))
    return new PageTargets(cdp)
  }

  async open(url: string): Promise<string> {
    return (await this.cdp.send('Target.createTarget', { url })).targetId
  }

  async close(targetId: string): Promise<void> {
    await this.cdp.send('Target.closeTarget', { targetId }).catch(() => undefined)
  }

  async title(targetId: string): Promise<string | undefined> {
    const info = await this.cdp.send('Target.getTargetInfo', { targetId }).catch(() => undefined)
    return info?.targetInfo.title
  }

  /** Evaluates `expression` (awaiting a promise) in the page through a short-lived session, and detaches. */
  async evaluate(targetId: string, expression: string, timeoutMs: number): Promise<unknown> {
    const { sessionId } = await this.cdp.send('Target.attachToTarget', { targetId, flatten: false })
    const id = this.nextId++
    try {
      const reply = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.cdp.off('Target.receivedMessageFromTarget', onMessage)
          reject(new Error(`no answer from the page within ${timeoutMs} ms`))
        }, timeoutMs)
        const onMessage = (e: { sessionId: string; message: string }) => {
          if (e.sessionId !== sessionId) return
          const msg = JSON.parse(e.message) as { id?: number; result?: { result?: { value?: unknown }; exceptionDetails?: { text: string } }; error?: { message: string } }
          if (msg.id !== id) return
          clearTimeout(timer)
          this.cdp.off('Target.receivedMessageFromTarget', onMessage)
          if (msg.error || msg.result?.exceptionDetails) reject(new Error(msg.error?.message ?? msg.result?.exceptionDetails?.text))
          else resolve(msg.result?.result?.value)
        }
        this.cdp.on('Target.receivedMessageFromTarget', onMessage)
      })
      // The flat protocol would need a session Playwright knows; the older message envelope needs none.
      await this.cdp.send('Target.sendMessageToTarget', {
        sessionId, message: JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, awaitPromise: true, returnByValue: true } }),
      })
      return await reply
    } finally {
      await this.cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined)
    }
  }
}
