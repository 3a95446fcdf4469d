import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The package root, found from this file whether it runs from src/ (tsx) or dist/src/
 * (compiled): tsc does not copy the SQL migrations, so they are always read from the root.
 */
function findPackageRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
  return dir
}

export const packageRoot = findPackageRoot()
export const migrationsFolder = join(packageRoot, 'src', 'db', 'migrations')
