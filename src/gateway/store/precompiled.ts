import { CompiledQuery } from 'kysely';
import type { QueryResult } from 'kysely';
import type { Executor } from './schema.js';

/**
 * A hot statement whose SQL text Kysely builds and compiles once per database, instead of on
 * every call (building and compiling were ~14 % of a create's CPU). Each call passes only its
 * parameters. The statement's shape must not depend on the values: `compile` is run once per
 * database (and for inserts, once per set of columns), and its parameters are checked against
 * `parameters(...)` that time, so a parameter order that disagrees with the SQL fails loudly at
 * the first call instead of writing a value into the wrong column.
 */
export class Precompiled<Args extends unknown[]> {
  readonly #compile: (ex: Executor, ...args: Args) => CompiledQuery;
  readonly #parameters: (...args: Args) => readonly unknown[];
  readonly #shapeOf: ((...args: Args) => string) | null;
  /** SQL text per database (its dialect adapter: parameters written `?` or `$1`) and shape. */
  readonly #texts = new WeakMap<object, Map<string, string>>();

  constructor(
    compile: (ex: Executor, ...args: Args) => CompiledQuery,
    parameters: (...args: Args) => readonly unknown[],
    shapeOf: ((...args: Args) => string) | null = null,
  ) {
    this.#compile = compile;
    this.#parameters = parameters;
    this.#shapeOf = shapeOf;
  }

  execute<R = unknown>(ex: Executor, ...args: Args): Promise<QueryResult<R>> {
    // The adapter is one object per open database, shared by its transactions.
    const adapter = ex.getExecutor().adapter;
    let texts = this.#texts.get(adapter);
    if (texts === undefined) {
      texts = new Map();
      this.#texts.set(adapter, texts);
    }
    const shape = this.#shapeOf === null ? '' : this.#shapeOf(...args);
    const parameters = this.#parameters(...args);
    let text = texts.get(shape);
    if (text === undefined) {
      const compiled = this.#compile(ex, ...args);
      if (compiled.parameters.length !== parameters.length || compiled.parameters.some((value, i) => value !== parameters[i])) {
        return Promise.reject(new Error(`precompiled statement's parameters disagree with its SQL: ${compiled.sql}`));
      }
      text = compiled.sql;
      texts.set(shape, text);
    }
    // In a SQLite batch's transaction the work holds the one connection: run the prepared statement
    // on it directly (Kysely's executor would add a connection hand-off and a chain of promises per
    // call). Anywhere else Kysely queues the statement behind whichever transaction holds it.
    const direct = directStatements.get(ex);
    if (direct !== undefined) {
      try {
        return Promise.resolve(direct.execute(text, parameters) as QueryResult<R>);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return ex.executeQuery(CompiledQuery.raw(text, parameters as unknown[])) as Promise<QueryResult<R>>;
  }
}

/** Runs a SQL text on SQLite's connection synchronously, with the result Kysely's driver would give. */
export interface DirectStatements {
  execute(text: string, parameters: readonly unknown[]): QueryResult<unknown>;
}

const directStatements = new WeakMap<Executor, DirectStatements>();

/** Lets the precompiled statements run in `tx` (a transaction holding SQLite's connection) go to it directly. */
export function runPrecompiledDirectly(tx: Executor, direct: DirectStatements): void {
  directStatements.set(tx, direct);
}

/** The columns an insert of `row` writes (Kysely leaves out undefined values), as the statement's shape. */
export function insertShape(row: object): string {
  let shape = '';
  for (const [column, value] of Object.entries(row)) if (value !== undefined) shape += `${column},`;
  return shape;
}

/** The values of `row` in the order of its columns, as Kysely binds them for an insert. */
export function insertParameters(row: object): unknown[] {
  const values: unknown[] = [];
  for (const value of Object.values(row)) if (value !== undefined) values.push(value);
  return values;
}
