/**
 * The logging port background services take: the four structured-call methods pino's Logger
 * (and Fastify's request logger) provides, so services never depend on pino itself.
 */
export interface Log {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
  debug: (obj: object, msg: string) => void
}
