import { fileURLToPath } from 'node:url'

/** Static files of the dashboard, served by the coordinator at `/`. */
export const dashboardDir = fileURLToPath(new URL('../public', import.meta.url))
