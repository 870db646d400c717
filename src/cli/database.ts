import { loadConfig, migrate, openDatabase, type Database } from '../gateway/index.js';

/**
 * Runs one operator command against the configured database (ZHIFU_DATABASE_URL), migrated first
 * when the command writes. Each commit is fsync'd as it happens (the command prints its result
 * without the gateway's durability barrier). A failure is printed as one line and sets exit code 1, never a stack.
 */
export async function withDatabase(options: { migrateFirst: boolean }, work: (database: Database) => Promise<void>): Promise<void> {
  const database = openDatabase(loadConfig().databaseUrl, { sqliteCommitSync: 'each' });
  try {
    if (options.migrateFirst) await migrate(database);
    await work(database);
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    await database.close();
  }
}
