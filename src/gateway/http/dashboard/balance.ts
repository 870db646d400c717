import type { FastifyInstance } from 'fastify';
import { retrieveBalance } from '../../core/balance.js';
import { listBalanceTransactionRows } from '../../core/dashboard_balance.js';
import { ReportDateError, settlementDay, settlementDayReport, settlementReportCsv, utcDay } from '../../core/settlement_report.js';
import { utcDateOf } from '../../domain/days.js';
import { parameterInvalid } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { BALANCE_PATH, balancePage, REPORT_CSV_PATH } from './balance_views.js';
import type { DashboardKit } from './kit.js';
import { locationOf, scopeOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { sessionOf } from './session.js';

/** Transactions per page of the Balance page's list. */
const TRANSACTIONS_PER_PAGE = 25;

/** A report date from the query: a calendar date, or 400 saying what was wrong. */
function reportDate(value: string | undefined): string | null {
  if (value === undefined) return null;
  try {
    utcDay(value);
  } catch (error) {
    if (error instanceof ReportDateError) throw parameterInvalid('date', `date ${error.message}`);
    throw error;
  }
  return value;
}

/**
 * Balance (api.md §8 `/dashboard/balance`): what the account has per settlement currency, the
 * day's settlement report with its CSV (the same report as `zhifu report settlement`, scoped to
 * the operator's account and the page's mode), and the balance transactions, each linked to the
 * payment or dispute it came from.
 */
export function registerBalancePages(scope: FastifyInstance, kit: DashboardKit): void {
  scope.get(BALANCE_PATH, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const dataScope = scopeOf(req);
    const chosenDate = reportDate(queryParam(req.query, 'date'));
    const nowMs = kit.core.clock.now();
    const date = chosenDate ?? utcDateOf(nowMs);
    const startingAfter = queryParam(req.query, 'starting_after') ?? null;
    const endingBefore = queryParam(req.query, 'ending_before') ?? null;
    const type = queryParam(req.query, 'type') ?? null;
    const [balance, report, page] = await Promise.all([
      retrieveBalance(kit.core, dataScope),
      settlementDay(kit.core.database, date, dataScope),
      listBalanceTransactionRows(kit.core, dataScope, {
        type, limit: TRANSACTIONS_PER_PAGE, starting_after: startingAfter, ending_before: endingBefore,
        created: chosenDate === null ? null : utcDay(chosenDate),
      }),
    ]);
    const amounts = (side: unknown) => side as { amount: number; currency: string }[];
    const pending = new Map(amounts(balance.pending).map((line) => [line.currency, line.amount]));
    const balances = amounts(balance.available).map((line) => ({ currency: line.currency, available: line.amount, pending: pending.get(line.currency) ?? 0 }));
    return sendDashboardPage(reply, 200, balancePage(location, sessionOf(req), {
      livemode: dataScope.livemode, balances, report, chosenDate, type, transactions: page.rows, hasMore: page.hasMore,
      paged: startingAfter !== null || endingBefore !== null, nowMs,
    }));
  });

  // The day's CSV, the same columns as the CLI's; a download, never cached.
  scope.get(REPORT_CSV_PATH, routeAuth('none'), async (req, reply) => {
    const dataScope = scopeOf(req);
    const date = reportDate(queryParam(req.query, 'date'));
    if (date === null) throw parameterInvalid('date', 'date is required: a calendar date YYYY-MM-DD');
    const report = await settlementDayReport(kit.core.database, date, dataScope);
    return reply
      .code(200)
      .headers({
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="settlement-${date}-${dataScope.livemode ? 'live' : 'test'}.csv"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      })
      .send(settlementReportCsv(report));
  });
}
