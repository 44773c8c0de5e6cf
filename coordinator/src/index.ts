export { buildApp, type AppDeps, type Coordinator } from './app.ts'
export { loadConfig, type Config, REPO_ROOT, DEFAULT_MODEL_DIR } from './config.ts'
export { createDb, type Db } from './db/create-db.ts'
export { migrateToLatest } from './db/migrate.ts'
