import { randomBytes } from 'node:crypto'
import { createConnection } from 'mysql2/promise'

export const MARIADB_URL = process.env.TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test'

/** A database of its own on the shared MariaDB server, dropped by `drop()`. */
export async function throwawayDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(MARIADB_URL)
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  const admin = await createConnection({ host: base.hostname, port: Number(base.port || 3306), user: base.username || 'root', password: decodeURIComponent(base.password) })
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(MARIADB_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`)
      await admin.end()
    },
  }
}
