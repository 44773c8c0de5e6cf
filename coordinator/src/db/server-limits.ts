import { sql } from 'kysely'
import { ConfigError } from '../config.ts'
import type { Db } from './create-db.ts'
import { judgeServerLimits, writeSetBound, type ServerLimits, type WriteSetConfig } from './write-set-bound.ts'

/** The limits a MariaDB server puts on one packet and, on a Galera node, one write set. */
export async function readServerLimits(db: Db): Promise<ServerLimits> {
  // A server built without wsrep has no wsrep_on at all (and no @@wsrep_max_ws_size to select).
  const on = await sql<{ Value: string }>`show variables like 'wsrep_on'`.execute(db.kysely)
  if (on.rows[0]?.Value !== 'ON') {
    const r = await sql<{ packet: number | string }>`select @@max_allowed_packet as packet`.execute(db.kysely)
    return { maxAllowedPacket: Number(r.rows[0]!.packet), galera: null }
  }
  const r = await sql<{ packet: number | string; ws: number | string; image: string }>`select @@max_allowed_packet as packet, @@wsrep_max_ws_size as ws, @@binlog_row_image as image`.execute(db.kysely)
  const row = r.rows[0]!
  return { maxAllowedPacket: Number(row.packet), galera: { maxWsSize: Number(row.ws), binlogRowImage: String(row.image) } }
}

/**
 * At start: refuses (ConfigError) when the server could not take the largest statement or write set this
 * config allows, which would otherwise fail only under load with an opaque error. Returns warnings to log.
 * The embedded SQLite file has no such limits.
 */
export async function checkServerLimits(db: Db, config: WriteSetConfig): Promise<string[]> {
  if (db.dialect !== 'mariadb') return []
  const verdict = judgeServerLimits(writeSetBound(config), await readServerLimits(db))
  if (verdict.refusals.length > 0) {
    throw new ConfigError(`the database server cannot take the largest writes this configuration allows (see docs/galera.md, "Settings Hivesight needs"):\n- ${verdict.refusals.join('\n- ')}`)
  }
  return verdict.warnings
}
