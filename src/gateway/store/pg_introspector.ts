import { PostgresDialect, sql } from 'kysely';
import type { DatabaseIntrospector, DatabaseMetadata, DatabaseMetadataOptions, Kysely, SchemaMetadata, TableMetadata } from 'kysely';

/**
 * Kysely's PostgreSQL introspector lists the columns of every table in every schema, calling
 * has_schema_privilege() on each schema by name: a schema another connection drops meanwhile
 * makes the whole query fail ("schema … does not exist"), and its cost grows with every schema in
 * the database. The only user is the migrator, asking whether its bookkeeping tables exist in the
 * connection's own schema (migrations.ts names it), so this introspector looks only there.
 * Columns are not listed: nothing here reads them.
 */
class CurrentSchemaIntrospector implements DatabaseIntrospector {
  // Kysely's own introspectors take the instance untyped: they query the catalogs, not our tables.
  constructor(private readonly db: Kysely<any>) {} // eslint-disable-line @typescript-eslint/no-explicit-any

  async getSchemas(): Promise<SchemaMetadata[]> {
    const result = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db);
    return result.rows;
  }

  async getTables(_options?: DatabaseMetadataOptions): Promise<TableMetadata[]> {
    const result = await sql<{ name: string; schema: string; type: string }>`
      select table_name as name, table_schema as schema, table_type as type
      from information_schema.tables where table_schema = current_schema()`.execute(this.db);
    return result.rows.map((row) => ({ name: row.name, schema: row.schema, isView: row.type === 'VIEW', columns: [] }));
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** Kysely's PostgreSQL dialect with the introspector above. */
export class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector { // eslint-disable-line @typescript-eslint/no-explicit-any
    return new CurrentSchemaIntrospector(db);
  }
}
