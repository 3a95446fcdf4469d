import { pino, type DestinationStream, type Logger } from 'pino'

/**
 * Paths pino blanks out wherever they appear. Codes, PINs, secrets and tokens must never
 * reach a log line, whatever object a developer hands to the logger.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-egw-signature"]',
  'req.headers.cookie',
  'headers.authorization',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.code',
  '*.pin',
  '*.cardCode',
  '*.serial',
  '*.credentials',
  '*.webhook_secret',
  '*.encryptionKeys',
  '*.fingerprintKey',
  '*.bootstrapAdminToken',
  '*.databaseUrl'
]

export function createLogger (level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'entitlement-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime
  }
  if (destination) return pino(options, destination)
  // Pretty only for a human at a terminal; production logs stay one JSON object per line.
  if (process.stdout.isTTY) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } })
  }
  return pino(options)
}
