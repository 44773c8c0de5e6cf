import { fileURLToPath } from 'node:url'

/** The built dashboard (`npm run build` → vite build), served by the coordinator at `/`. */
export const dashboardDir = fileURLToPath(new URL('../dist', import.meta.url))
