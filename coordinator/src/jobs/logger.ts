/** The logging the job lifecycle needs (pino's shape; tests pass a silent one). */
export interface Logger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}
