/** PostgreSQL schemas for benchmark runs: each run gets its own, dropped afterwards unless kept. */
import pg from 'pg';
import { openDatabase } from '../src/gateway/index.js';
import type { Database } from '../src/gateway/index.js';

/** Runs one statement on a connection of its own (creating and dropping schemas around a run). */
export async function adminQuery(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/**
 * The schema `schema` of the database at `url`, created when missing (`fresh` says whether it
 * was), opened as a gateway store; `cleanup` closes it and drops the schema unless `keep`.
 */
export async function openPostgresSchema(url: string, schema: string, options: { poolMax: number; keep?: boolean }): Promise<{ database: Database; fresh: boolean; cleanup: () => Promise<void> }> {
  const exists = await adminQuery(url, 'select 1 from information_schema.schemata where schema_name = $1', [schema]);
  const fresh = exists.rowCount === 0;
  if (fresh) await adminQuery(url, `create schema ${schema}`);
  const database = openDatabase(url, { searchPath: schema, poolMax: options.poolMax });
  return {
    database,
    fresh,
    cleanup: async () => {
      await database.close();
      if (options.keep !== true) await adminQuery(url, `drop schema ${schema} cascade`);
    },
  };
}
