import { defineConfig } from 'drizzle-kit'

// `npm run db:generate` only diffs the schema against the committed migrations; it needs
// no database. Migrations are applied by the gateway itself (src/db/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './src/db/migrations',
  strict: true,
  verbose: true
})
