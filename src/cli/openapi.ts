import { join } from 'node:path'
import { pino } from 'pino'
import { buildApp } from '../app.js'
import { loadConfig } from '../config.js'
import { createKeyring, generateKeyMaterial } from '../crypto/keyring.js'
import { createDatabase } from '../db/client.js'
import { createMetrics } from '../observability/metrics.js'
import { packageRoot } from '../paths.js'

export const OPENAPI_FILE = join(packageRoot, 'openapi', 'openapi.json')

/** The document as committed: stable key order, two-space indent, trailing newline. */
export function serializeOpenApi (doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n'
}

/**
 * Builds the app without touching a database (postgres.js connects lazily, no handler
 * runs, no supplier instance is loaded) to read the document the routes describe.
 */
export async function generateOpenApi (): Promise<string> {
  const material = generateKeyMaterial()
  const config = loadConfig({ DATABASE_URL: 'postgres://openapi.invalid/none', ENCRYPTION_KEYS: material.encryptionKeys, FINGERPRINT_KEY: material.fingerprintKey })
  const database = createDatabase(config.databaseUrl as string, { max: 1 })
  const app = await buildApp({
    config, database, keyring: createKeyring(material.encryptionKeys, material.fingerprintKey),
    metrics: createMetrics(), logger: pino({ level: 'silent' }), describeOnly: true
  })
  try {
    await app.ready()
    return serializeOpenApi(app.swagger())
  } finally {
    await app.close()
    await database.close()
  }
}
