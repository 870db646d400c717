import { ApiError } from '../errors.js';
import { LINE_ITEMS_MAX } from '../domain/checkout_sessions.js';
import { LIST_LIMIT_MAX } from '../store/pagination.js';
import type { Scope } from '../store/scope.js';
import { retrieveBalanceTransaction } from './balance.js';
import { retrieveCharge } from './charges.js';
import { listCheckoutSessionLineItems } from './checkout_sessions.js';
import type { CoreDeps } from './context.js';
import { retrievePaymentIntent } from './payment_intents.js';
import { retrievePaymentMethod } from './payment_methods.js';
import { retrievePrice } from './prices.js';
import { retrieveProduct } from './products.js';
import { listRefunds } from './refunds.js';
import type { ApiObject } from './views.js';

/*
 * `expand[]` (Stripe's "Expanding responses"): which fields of which objects can be expanded, and
 * how. One registry for every endpoint: the HTTP layer checks a request's paths against it before
 * the route runs, and expands the route's answer by the object types it meets. Every object is
 * loaded through the same scoped retrieve functions the API uses, so an expansion can only ever
 * show an object of the caller's own account and mode.
 */

/** What a field or a response holds: one object of a type, or a list object of them. */
export type Target = { object: string } | { list: string };

type Deps = Pick<CoreDeps, 'database' | 'clock'>;

/**
 * An expandable field: an id replaced by its object (`load`), a field not in the default answer
 * that expanding adds (`include`), or a reference Zhifu keeps as given because it has no such
 * object (`customer` is the merchant's own reference: expanding it is accepted and leaves it).
 */
type ExpandableField =
  | { target: Target; load: (deps: Deps, scope: Scope, id: string) => Promise<ApiObject> }
  | { target: Target; include: (deps: Deps, scope: Scope, parent: ApiObject) => Promise<ApiObject> }
  | { target: null };

const paymentIntent: ExpandableField = { target: { object: 'payment_intent' }, load: (deps, scope, id) => retrievePaymentIntent(deps, scope, id) };
const charge: ExpandableField = { target: { object: 'charge' }, load: retrieveCharge };
const balanceTransaction: ExpandableField = { target: { object: 'balance_transaction' }, load: retrieveBalanceTransaction };
const merchantReference: ExpandableField = { target: null };

/** Object type → its expandable fields (Stripe's `x-expandableFields` that Zhifu has). */
const EXPANDABLE: Readonly<Record<string, Readonly<Record<string, ExpandableField>>>> = {
  payment_intent: {
    latest_charge: charge,
    payment_method: { target: { object: 'payment_method' }, load: retrievePaymentMethod },
    customer: merchantReference,
  },
  charge: {
    payment_intent: paymentIntent,
    balance_transaction: balanceTransaction,
    customer: merchantReference,
    // Not in a charge's default answer (as in Stripe since 2022-11-15): expanding adds the list.
    refunds: {
      target: { list: 'refund' },
      include: async (deps, scope, parent) => {
        const id = String(parent.id);
        const page = await listRefunds(deps, scope, { charge: id, limit: LIST_LIMIT_MAX });
        return { object: 'list', url: `/v1/refunds?charge=${id}`, has_more: page.hasMore, data: page.data };
      },
    },
  },
  refund: { charge, payment_intent: paymentIntent, balance_transaction: balanceTransaction },
  'checkout.session': {
    payment_intent: paymentIntent,
    customer: merchantReference,
    // In the answers of create, retrieve and expire already (the seed's); expanding adds it to lists.
    line_items: {
      target: { list: 'item' },
      include: (deps, scope, parent) => listCheckoutSessionLineItems(deps, scope, String(parent.id), { limit: LINE_ITEMS_MAX }),
    },
  },
  dispute: { charge, payment_intent: paymentIntent },
  item: { price: { target: { object: 'price' }, load: retrievePrice } },
  price: { product: { target: { object: 'product' }, load: retrieveProduct } },
};

/** Stripe's bound: `a.b.c.d` at most (the `data` of a list counts as a level). */
export const EXPAND_DEPTH_MAX = 4;

/** Paths to expand as a tree: `latest_charge.balance_transaction` → latest_charge → balance_transaction. */
export type ExpandTree = Map<string, ExpandTree>;

function invalidExpand(message: string): ApiError {
  return new ApiError({ status: 400, type: 'invalid_request_error', code: 'parameter_invalid', message, param: 'expand', shouldRetry: false });
}

/**
 * Checks `paths` against what `root` (the answer of the route) can expand, and returns them as a
 * tree. Throws the 400 naming every path that cannot be expanded (Stripe's wording), or a path
 * deeper than EXPAND_DEPTH_MAX. `allowed` limits the first level (a publishable key's fields).
 */
export function expandTreeOf(root: Target | null, paths: readonly string[], allowed: readonly string[] | null = null): ExpandTree {
  const tree: ExpandTree = new Map();
  const refused: string[] = [];
  let hint: string | null = null;
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.length > EXPAND_DEPTH_MAX) throw invalidExpand(`You cannot expand more than ${EXPAND_DEPTH_MAX} levels of a property (${path}).`);
    let target = root;
    let ok = /^[a-z_]+(\.[a-z_]+)*$/.test(path) && (allowed === null || allowed.includes(segments[0]!));
    for (let i = 0; ok && i < segments.length; i++) {
      const segment = segments[i]!;
      if (target === null) ok = false;
      else if ('list' in target) {
        if (segment === 'data') target = { object: target.list };
        else {
          ok = false;
          if (i === 0 && EXPANDABLE[target.list]?.[segment] !== undefined) hint = `data.${path}`;
        }
      } else {
        const field = EXPANDABLE[target.object]?.[segment];
        if (field === undefined) ok = false;
        else target = field.target;
      }
    }
    // `data` alone names no field of the items.
    if (ok && root !== null && 'list' in root && segments.length === 1) ok = false;
    if (!ok) {
      refused.push(path);
      continue;
    }
    let node = tree;
    for (const segment of segments) {
      let next = node.get(segment);
      if (next === undefined) node.set(segment, (next = new Map()));
      node = next;
    }
  }
  if (refused.length > 0) {
    const tryInstead = hint !== null && refused.length === 1 ? ` You may want to try expanding '${hint}' instead.` : '';
    throw invalidExpand(`This property cannot be expanded (${refused.join(', ')}).${tryInstead}`);
  }
  return tree;
}

/** Loads of one expansion, shared by every place the same object appears (a list of intents sharing a charge). */
type Loads = Map<string, Promise<ApiObject | null>>;

const isObject = (value: unknown): value is ApiObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Expands `value` (the route's answer, `root`) along `tree`, in place, loading every object in
 * `scope` only. An id that names nothing in the scope stays an id; a field already an object is
 * only expanded further. Nothing is loaded for a tree that is empty.
 */
export async function expandAnswer(deps: Deps, scope: Scope, value: unknown, root: Target, tree: ExpandTree): Promise<unknown> {
  return expandValue(deps, scope, new Map(), value, root, tree);
}

async function expandValue(deps: Deps, scope: Scope, loads: Loads, value: unknown, target: Target, tree: ExpandTree): Promise<unknown> {
  if (tree.size === 0 || !isObject(value)) return value;
  if ('list' in target) {
    const items = tree.get('data');
    if (items === undefined || !Array.isArray(value.data)) return value;
    const itemTarget = { object: target.list };
    value.data = await Promise.all(value.data.map((item) => expandValue(deps, scope, loads, item, itemTarget, items)));
    return value;
  }
  const fields = EXPANDABLE[target.object] ?? {};
  for (const [name, subtree] of tree) {
    const field = fields[name];
    if (field === undefined || field.target === null) continue;
    let current = value[name];
    // Absent (or null, should a default answer name the field without it): added when expanded.
    if ('include' in field && (current === undefined || current === null)) current = await field.include(deps, scope, value);
    else if ('load' in field && typeof current === 'string') current = await loadOnce(deps, scope, loads, field, current);
    value[name] = await expandValue(deps, scope, loads, current, field.target, subtree);
  }
  return value;
}

async function loadOnce(deps: Deps, scope: Scope, loads: Loads, field: Extract<ExpandableField, { load: unknown }>, id: string): Promise<unknown> {
  const key = `${JSON.stringify(field.target)}:${id}`;
  let pending = loads.get(key);
  if (pending === undefined) {
    pending = field.load(deps, scope, id).catch((error: unknown) => {
      // Not the caller's (or gone): the id stays as it was, nothing of another account is shown.
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    });
    loads.set(key, pending);
  }
  const loaded = await pending;
  // Each place gets its own copy: deeper expansions of one must not show up in another.
  return loaded === null ? id : structuredClone(loaded);
}
