import type { OperatorSession } from '../../core/operators.js';
import type { SettlementDay } from '../../core/settlement_report.js';
import { BALANCE_TRANSACTION_TYPES } from '../../core/dashboard_balance.js';
import type { BalanceTransactionRow } from '../../store/schema.js';
import { formatAmount } from '../pages/checkout.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { BALANCE_TEXT } from './balance_text.js';
import type { BalanceText } from './balance_text.js';
import { emptyRow, pageHeading, pager, statusBadge, timeOf } from './components.js';
import type { DashboardPage } from './page.js';
import { modePath, signedInPage } from './views.js';
import type { PageLocation } from './views.js';

export const BALANCE_PATH = '/dashboard/balance';
export const REPORT_CSV_PATH = '/dashboard/balance/report.csv';

export interface BalanceView {
  livemode: boolean;
  balances: { currency: string; available: number; pending: number }[];
  report: SettlementDay;
  /** The date the operator chose (the list shows that day), or null (today's report, every transaction listed). */
  chosenDate: string | null;
  type: string | null;
  transactions: BalanceTransactionRow[];
  hasMore: boolean;
  paged: boolean;
  nowMs: number;
}

function money(currency: string, minor: number, field: string): SafeHtml {
  return html`<td class="num" data-field="${field}" data-minor="${minor}">${formatAmount(currency, minor)}</td>`;
}

/** A GET form keeps the page's mode (its query string replaces the action's). */
function modeField(livemode: boolean): SafeHtml {
  return livemode ? html`<input type="hidden" name="mode" value="live">` : html``;
}

function balancesSection(view: BalanceView, b: BalanceText): SafeHtml {
  const rows = view.balances.length === 0
    ? emptyRow(3, b.noBalance)
    : view.balances.map((line) => html`<tr data-testid="balance-${line.currency}"><th scope="row">${line.currency}</th>${money(line.currency, line.available, 'available')}${money(line.currency, line.pending, 'pending')}</tr>`);
  return html`<section class="card" aria-labelledby="balances-title"><h2 id="balances-title">${b.balances}</h2>
<table class="list" data-testid="balances"><thead><tr><th scope="col">${b.currency}</th><th scope="col" class="num">${b.available}</th><th scope="col" class="num">${b.pending}</th></tr></thead>
<tbody>${rows}</tbody></table></section>`;
}

function reportSection(view: BalanceView, b: BalanceText): SafeHtml {
  const report = view.report;
  const totals = report.totals.length === 0
    ? emptyRow(5, b.noReportLines)
    : report.totals.map((total) => html`<tr data-testid="report-total-${total.currency}"><th scope="row">${total.currency}</th><td class="num" data-field="count">${total.count}</td>${money(total.currency, total.amount, 'amount')}${money(total.currency, total.fee, 'fee')}${money(total.currency, total.net, 'net')}</tr>`);
  const disputes = report.disputes.length === 0 ? html`` : html`<h3>${b.disputeTotals}</h3>
<table class="list" data-testid="report-disputes"><thead><tr><th scope="col">${b.currency}</th><th scope="col" class="num">${b.withdrawn}</th><th scope="col" class="num">${b.reinstated}</th><th scope="col" class="num">${b.net}</th></tr></thead>
<tbody>${report.disputes.map((total) => html`<tr data-testid="report-dispute-${total.currency}"><th scope="row">${total.currency}</th><td class="num" data-field="withdrawn" data-minor="${total.withdrawals.amount}">${formatAmount(total.currency, total.withdrawals.amount)} (${total.withdrawals.count})</td><td class="num" data-field="reinstated" data-minor="${total.reinstatements.amount}">${formatAmount(total.currency, total.reinstatements.amount)} (${total.reinstatements.count})</td>${money(total.currency, total.net, 'net')}</tr>`)}</tbody></table>`;
  const csvHref = modePath(`${REPORT_CSV_PATH}?date=${report.date}`, view.livemode);
  const dayLink = view.chosenDate === null ? html`<a class="button secondary small" data-testid="report-show-day" href="${modePath(`${BALANCE_PATH}?date=${report.date}`, view.livemode)}">${b.showDay}</a>` : '';
  return html`<section class="card" aria-labelledby="report-title" data-testid="report" data-date="${report.date}"><h2 id="report-title">${b.reportTitle}</h2>
<form class="filters" method="get" action="${BALANCE_PATH}" data-testid="report-form">${modeField(view.livemode)}
<div><label for="report-date">${b.reportDate}</label><input id="report-date" name="date" type="date" required value="${report.date}" data-testid="report-date"></div>
<button class="button small" type="submit" data-testid="report-show">${b.showReport}</button>
<a class="button secondary small" href="${csvHref}" download data-testid="report-csv">${b.downloadCsv}</a>${dayLink}
</form>
<p class="muted">${b.reportIntro}</p>
<table class="list" data-testid="report-totals"><thead><tr><th scope="col">${b.currency}</th><th scope="col" class="num">${b.count}</th><th scope="col" class="num">${b.amount}</th><th scope="col" class="num">${b.fee}</th><th scope="col" class="num">${b.net}</th></tr></thead>
<tbody>${totals}</tbody></table>
${disputes}
<p class="muted" data-testid="report-inquiry-note">${b.inquiryNote} <code>npx zhifu report settlement --date ${report.date}</code></p>
</section>`;
}

function sourceLink(txn: BalanceTransactionRow, livemode: boolean): SafeHtml {
  if (txn.type === 'dispute') return html`<a class="mono" data-testid="source-link" href="${modePath(`/dashboard/disputes/${encodeURIComponent(txn.source)}`, livemode)}">${txn.source}</a>`;
  if ((txn.type === 'charge' || txn.type === 'refund') && txn.payment_intent_id !== null) {
    return html`<a class="mono" data-testid="source-link" href="${modePath(`/dashboard/payments/${encodeURIComponent(txn.payment_intent_id)}`, livemode)}">${txn.source}</a>`;
  }
  return html`<span class="mono">${txn.source}</span>`;
}

function transactionsSection(location: PageLocation, view: BalanceView, b: BalanceText): SafeHtml {
  const title = view.chosenDate === null ? b.transactionsTitle : `${b.transactionsOn}${view.chosenDate}`;
  const typeOptions = BALANCE_TRANSACTION_TYPES.map((type) => html`<option value="${type}"${view.type === type ? html` selected` : ''}>${b.typeLabels[type] ?? type}</option>`);
  const filters = html`<form class="filters" method="get" action="${BALANCE_PATH}" data-testid="transaction-filters">${modeField(view.livemode)}${view.chosenDate === null ? '' : html`<input type="hidden" name="date" value="${view.chosenDate}">`}
<div><label for="filter-type">${b.type}</label><select id="filter-type" name="type" data-testid="filter-type"><option value="">${b.allTypes}</option>${typeOptions}</select></div>
<button class="button small" type="submit" data-testid="filter-apply">${b.filter}</button>
${view.chosenDate === null ? '' : html`<a class="button secondary small" data-testid="show-all" href="${modePath(BALANCE_PATH, view.livemode)}">${b.allTransactions}</a>`}
</form>`;
  const rows = view.transactions.length === 0
    ? emptyRow(8, b.noTransactions)
    : view.transactions.map((txn) => {
      const status = txn.available_on <= view.nowMs ? 'available' : 'pending';
      return html`<tr data-testid="txn-row" data-id="${txn.id}" data-type="${txn.type}"><td class="mono">${txn.id}</td><td>${b.typeLabels[txn.reporting_category ?? txn.type] ?? txn.reporting_category ?? txn.type}</td><td>${sourceLink(txn, view.livemode)}</td>${money(txn.currency, txn.amount, 'amount')}${money(txn.currency, txn.fee, 'fee')}${money(txn.currency, txn.net, 'net')}<td>${statusBadge(status, b.statusLabels[status])} ${timeOf(txn.available_on)}</td><td>${timeOf(txn.created)}</td></tr>`;
    });
  const window = { firstId: view.transactions[0]?.id ?? null, lastId: view.transactions.at(-1)?.id ?? null, hasMore: view.hasMore, paged: view.paged };
  return html`<section class="card" aria-labelledby="transactions-title"><h2 id="transactions-title" data-testid="transactions-title">${title}</h2>
${filters}
<table class="list" data-testid="transactions"><thead><tr><th scope="col">${b.id}</th><th scope="col">${b.type}</th><th scope="col">${b.source}</th><th scope="col" class="num">${b.amount}</th><th scope="col" class="num">${b.fee}</th><th scope="col" class="num">${b.net}</th><th scope="col">${b.status} · ${b.availableOn}</th><th scope="col">${b.created}</th></tr></thead>
<tbody>${rows}</tbody></table>
${pager(location, window)}
</section>`;
}

export function balancePage(location: PageLocation, session: OperatorSession, view: BalanceView): DashboardPage {
  const b = BALANCE_TEXT[location.lang];
  const body = html`${pageHeading(b.balanceTitle, 'balance-title')}
${balancesSection(view, b)}
${reportSection(view, b)}
${transactionsSection(location, view, b)}`;
  return signedInPage(location, session, view.livemode, b.balanceTitle, body);
}
