import type { CheckoutSessionDetail, CheckoutSessionRow, CheckoutSessionStatus, PriceRow, ProductDetail, ProductWithPrices, Window } from '../../core/dashboard_checkout.js';
import { CHECKOUT_SESSION_STATUSES } from '../../core/dashboard_checkout.js';
import type { OperatorSession } from '../../core/operators.js';
import { formatAmount } from '../pages/checkout.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { CHECKOUT_TEXT } from './checkout_text.js';
import type { CheckoutText } from './checkout_text.js';
import { csrfField, detailList, emptyRow, notice, pageHeading, pager, statusBadge, timeOf } from './components.js';
import { PROCESSING_CURRENCIES } from '../../domain/money.js';
import type { DashboardPage } from './page.js';
import { modePath, signedInPage } from './views.js';
import type { PageLocation } from './views.js';

/** The "Checkout & products" section: checkout sessions and products with their prices, read-only. */

export const SESSIONS_PATH = '/dashboard/checkout_sessions';
export const PRODUCTS_PATH = '/dashboard/products';

const sessionPath = (id: string, livemode: boolean) => modePath(`${SESSIONS_PATH}/${encodeURIComponent(id)}`, livemode);
const productPath = (id: string, livemode: boolean) => modePath(`${PRODUCTS_PATH}/${encodeURIComponent(id)}`, livemode);
const paymentPath = (id: string, livemode: boolean) => modePath(`/dashboard/payments/${encodeURIComponent(id)}`, livemode);

function sectionTabs(location: PageLocation, livemode: boolean, current: 'sessions' | 'products'): SafeHtml {
  const t = CHECKOUT_TEXT[location.lang];
  const tab = (which: 'sessions' | 'products', path: string, label: string) => html`<a data-testid="tab-${which}" href="${modePath(path, livemode)}"${which === current ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="tabs" aria-label="${t.tabSessions} / ${t.tabProducts}">${tab('sessions', SESSIONS_PATH, t.tabSessions)}${tab('products', PRODUCTS_PATH, t.tabProducts)}</nav>`;
}

function metadataOf(json: string, t: CheckoutText): SafeHtml {
  const entries = Object.entries(JSON.parse(json) as Record<string, string>);
  if (entries.length === 0) return html`<span class="muted">${t.noneGiven}</span>`;
  return html`<span class="mono">${entries.map(([key, value], i) => html`${i === 0 ? '' : html`<br>`}${key}: ${value}`)}</span>`;
}

function sessionStatus(row: Pick<CheckoutSessionRow, 'status'>, t: CheckoutText): SafeHtml {
  return statusBadge(row.status, t.sessionStatuses[row.status]);
}

function paymentStatus(row: Pick<CheckoutSessionRow, 'payment_status'>, t: CheckoutText): SafeHtml {
  return statusBadge(row.payment_status, t.paymentStatuses[row.payment_status]);
}

export function sessionsListPage(location: PageLocation, session: OperatorSession, livemode: boolean, status: CheckoutSessionStatus | null, window: Window<CheckoutSessionRow>): DashboardPage {
  const t = CHECKOUT_TEXT[location.lang];
  const option = (value: string, label: string) => html`<option value="${value}"${(status ?? '') === value ? html` selected` : ''}>${label}</option>`;
  const filters = html`<form class="card filters" method="get" action="${SESSIONS_PATH}" data-testid="session-filters">
${livemode ? html`<input type="hidden" name="mode" value="live">` : ''}
<div><label for="filter-status">${t.filterStatus}</label><select id="filter-status" name="status" data-testid="filter-status">${option('', t.allStatuses)}${CHECKOUT_SESSION_STATUSES.map((value) => option(value, t.sessionStatuses[value] ?? value))}</select></div>
<div><button class="button small" type="submit" data-testid="apply-filters">${t.applyFilters}</button> <a class="button small secondary" href="${modePath(SESSIONS_PATH, livemode)}" data-testid="clear-filters">${t.clearFilters}</a></div>
</form>`;
  const rows = window.rows.map((row) => html`<tr data-testid="session-row" data-id="${row.id}" data-status="${row.status}">
<td class="num"><a href="${sessionPath(row.id, livemode)}" data-testid="session-link">${formatAmount(row.currency, row.amount_total)}</a></td>
<td>${sessionStatus(row, t)} ${paymentStatus(row, t)}</td>
<td>${row.customer_email ?? html`<span class="muted">—</span>`}</td>
<td class="mono">${row.client_reference_id ?? ''}</td>
<td>${timeOf(row.created)}</td>
<td>${timeOf(row.expires_at)}</td>
</tr>`);
  const table = html`<section class="card"><table class="list" data-testid="sessions-table">
<thead><tr><th scope="col" class="num">${t.amount}</th><th scope="col">${t.status}</th><th scope="col">${t.customer}</th><th scope="col">${t.reference}</th><th scope="col">${t.created}</th><th scope="col">${t.expires}</th></tr></thead>
<tbody>${rows.length === 0 ? emptyRow(6, t.noSessions) : rows}</tbody></table>${pager(location, window)}</section>`;
  return signedInPage(location, session, livemode, t.sessions, html`${pageHeading(t.sessions, 'sessions-title')}${sectionTabs(location, livemode, 'sessions')}${filters}${table}`);
}

function priceLabel(price: PriceRow, t: CheckoutText): string {
  const amount = formatAmount(price.currency, price.unit_amount);
  if (price.type !== 'recurring' || price.recurring === null) return amount;
  const recurring = JSON.parse(price.recurring) as { interval: string; interval_count?: number };
  return `${amount} · ${t.recurring(recurring.interval, recurring.interval_count ?? 1)}`;
}

export function sessionDetailPage(location: PageLocation, session: OperatorSession, livemode: boolean, detail: CheckoutSessionDetail): DashboardPage {
  const t = CHECKOUT_TEXT[location.lang];
  const row = detail.session;
  const total = formatAmount(row.currency, row.amount_total);
  const hosted = row.status === 'open'
    ? html`<a class="mono" href="${row.url}" rel="noreferrer" data-testid="hosted-page-url">${row.url}</a>`
    : html`<span class="muted" data-testid="hosted-page-closed">${t.hostedPageClosed}</span>`;
  const facts = detailList([
    [t.total, html`<strong data-testid="session-total">${total}</strong>`],
    [t.subtotal, html`<span data-testid="session-subtotal">${formatAmount(row.currency, row.amount_subtotal)}</span>`],
    [t.status, html`<span data-testid="session-status">${sessionStatus(row, t)}</span> <span data-testid="session-payment-status">${paymentStatus(row, t)}</span>`],
    [t.paymentIntent, html`<a class="mono" href="${paymentPath(row.payment_intent_id, livemode)}" data-testid="payment-link">${row.payment_intent_id}</a>${detail.paymentIntent === null ? '' : html` ${statusBadge(detail.paymentIntent.status)}`}`],
    [t.hostedPage, hosted],
    [t.expires, html`<span data-testid="session-expires">${timeOf(row.expires_at)}</span>`],
    [t.created, timeOf(row.created)],
    [t.customer, row.customer_email ?? t.noneGiven],
    [t.reference, row.client_reference_id ?? t.noneGiven],
    [t.successUrl, html`<span class="mono">${row.success_url}</span>`],
    [t.cancelUrl, html`<span class="mono">${row.cancel_url ?? t.noneGiven}</span>`],
    [t.locale, row.locale ?? t.noneGiven],
    [t.metadata, metadataOf(row.metadata, t)],
  ]);
  const items = detail.lineItems.map((item) => html`<tr data-testid="line-item" data-id="${item.row.id}">
<td>${item.product === null ? item.row.description : html`<a href="${productPath(item.product.id, livemode)}">${item.row.description}</a>`}${item.price === null ? '' : html`<br><span class="muted mono">${item.price.id}</span>`}</td>
<td class="num">${item.price === null ? '' : formatAmount(item.price.currency, item.price.unit_amount)}</td>
<td class="num" data-field="quantity">${item.row.quantity}</td>
<td class="num" data-field="amount" data-minor="${item.row.amount_total}">${formatAmount(item.row.currency, item.row.amount_total)}</td>
</tr>`);
  const lines = html`<section class="card" aria-labelledby="items-title"><h2 id="items-title">${t.lineItems}</h2><table class="list" data-testid="line-items">
<thead><tr><th scope="col">${t.item}</th><th scope="col" class="num">${t.unitPrice}</th><th scope="col" class="num">${t.quantity}</th><th scope="col" class="num">${t.lineTotal}</th></tr></thead>
<tbody>${items}</tbody>
<tfoot><tr><th scope="row" colspan="3">${t.total}</th><td class="num">${total}</td></tr></tfoot></table></section>`;
  const heading = pageHeading(`${t.session} ${total}`, 'session-title', html`<a class="button small secondary" href="${modePath(SESSIONS_PATH, livemode)}">${t.sessions}</a>`);
  return signedInPage(location, session, livemode, `${t.session} ${row.id}`, html`${heading}<p class="mono muted" data-testid="session-id">${row.id}</p><section class="card" data-testid="session-facts">${facts}</section>${lines}`);
}

/** The outcome of an action on the page (PRG notice, or the refusal just posted) and what was typed. */
export interface CatalogFormState {
  notice: { text: string; tone: 'ok' | 'bad' } | null;
  values: Record<string, string>;
}

export const NO_FORM_STATE: CatalogFormState = { notice: null, values: {} };

function currencySelect(id: string, selected: string, t: CheckoutText): SafeHtml {
  return html`<div><label for="${id}">${t.currencyLabel}</label><select id="${id}" name="currency" data-testid="${id}">${PROCESSING_CURRENCIES.map((code) => html`<option value="${code}"${code === selected ? html` selected` : ''}>${code}</option>`)}</select></div>`;
}

function newProductForm(session: OperatorSession, livemode: boolean, state: CatalogFormState, t: CheckoutText): SafeHtml {
  const v = (name: string) => state.values[name] ?? '';
  return html`<details class="card"${state.notice?.tone === 'bad' ? html` open` : ''}><summary data-testid="new-product">${t.newProduct}</summary>
<form class="form" method="post" action="${modePath(PRODUCTS_PATH, livemode)}" data-testid="new-product-form">
${csrfField(session)}
<p class="muted">${t.newProductHelp}</p>
<div><label for="product-name">${t.productNameLabel}</label><input id="product-name" name="name" type="text" required maxlength="250" value="${v('name')}" data-testid="product-name-input"></div>
<div><label for="product-description">${t.productDescriptionLabel}</label><textarea id="product-description" name="description" rows="2" data-testid="product-description-input">${v('description')}</textarea></div>
<div><label for="product-amount">${t.firstPriceAmountLabel}</label><input id="product-amount" name="amount" type="text" inputmode="decimal" value="${v('amount')}" data-testid="product-amount-input"></div>
${currencySelect('product-currency', v('currency') || 'CNY', t)}
<div><button class="button" type="submit" data-testid="create-product">${t.createProduct}</button></div>
</form></details>`;
}

function newPriceForm(productId: string, session: OperatorSession, livemode: boolean, state: CatalogFormState, t: CheckoutText): SafeHtml {
  const v = (name: string) => state.values[name] ?? '';
  return html`<section class="card" aria-labelledby="add-price-title"><h2 id="add-price-title">${t.addPrice}</h2>
<form class="form" method="post" action="${modePath(`${PRODUCTS_PATH}/${encodeURIComponent(productId)}/prices`, livemode)}" data-testid="new-price-form">
${csrfField(session)}
<p class="muted">${t.addPriceHelp}</p>
<div><label for="price-amount">${t.priceAmountLabel}</label><input id="price-amount" name="amount" type="text" inputmode="decimal" required value="${v('amount')}" data-testid="price-amount-input"></div>
${currencySelect('price-currency', v('currency') || 'CNY', t)}
<div><label for="price-nickname">${t.nicknameLabel}</label><input id="price-nickname" name="nickname" type="text" maxlength="250" value="${v('nickname')}" data-testid="price-nickname-input"></div>
<div><button class="button" type="submit" data-testid="create-price">${t.createPrice}</button></div>
</form></section>`;
}

function activeBadge(active: number, t: CheckoutText): SafeHtml {
  return statusBadge(active === 1 ? 'active' : 'disabled', active === 1 ? t.active : t.inactive);
}

export function productsListPage(location: PageLocation, session: OperatorSession, livemode: boolean, active: boolean | null, window: Window<ProductWithPrices>, state: CatalogFormState = NO_FORM_STATE): DashboardPage {
  const t = CHECKOUT_TEXT[location.lang];
  const current = active === null ? '' : String(active);
  const option = (value: string, label: string) => html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
  const filters = html`<form class="card filters" method="get" action="${PRODUCTS_PATH}" data-testid="product-filters">
${livemode ? html`<input type="hidden" name="mode" value="live">` : ''}
<div><label for="filter-active">${t.filterActive}</label><select id="filter-active" name="active" data-testid="filter-active">${option('', t.allProducts)}${option('true', t.activeOnly)}${option('false', t.inactiveOnly)}</select></div>
<div><button class="button small" type="submit" data-testid="apply-filters">${t.applyFilters}</button></div>
</form>`;
  const rows = window.rows.map(({ product, prices, morePrices }) => html`<tr data-testid="product-row" data-id="${product.id}">
<td><a href="${productPath(product.id, livemode)}" data-testid="product-link">${product.name}</a><br><span class="muted mono">${product.id}</span></td>
<td>${product.description ?? ''}</td>
<td>${activeBadge(product.active, t)}</td>
<td data-testid="product-prices">${prices.length === 0 ? html`<span class="muted">${t.noPrices}</span>` : html`<ul class="plain" style="margin: 0; padding: 0; list-style: none">${prices.map((price) => html`<li data-testid="price" data-id="${price.id}"${price.active === 1 ? '' : html` class="muted"`}>${priceLabel(price, t)}</li>`)}</ul>`}${morePrices ? html`<a href="${productPath(product.id, livemode)}" data-testid="more-prices">${t.morePrices}</a>` : ''}</td>
<td>${timeOf(product.created)}</td>
</tr>`);
  const table = html`<section class="card"><table class="list" data-testid="products-table">
<thead><tr><th scope="col">${t.name}</th><th scope="col">${t.description}</th><th scope="col">${t.status}</th><th scope="col">${t.prices}</th><th scope="col">${t.created}</th></tr></thead>
<tbody>${rows.length === 0 ? emptyRow(5, t.noProducts) : rows}</tbody></table>${pager(location, window)}</section>`;
  const admin = session.operator.role === 'admin';
  const shown = state.notice === null ? '' : notice(state.notice.text, state.notice.tone);
  return signedInPage(location, session, livemode, t.products, html`${pageHeading(t.products, 'products-title')}${sectionTabs(location, livemode, 'products')}${shown}${admin ? newProductForm(session, livemode, state, t) : ''}${filters}${table}`);
}

export function productDetailPage(location: PageLocation, session: OperatorSession, livemode: boolean, detail: ProductDetail, state: CatalogFormState = NO_FORM_STATE): DashboardPage {
  const t = CHECKOUT_TEXT[location.lang];
  const product = detail.product;
  const images = JSON.parse(product.images) as string[];
  const facts = detailList([
    [t.name, html`<strong data-testid="product-name">${product.name}</strong>`],
    [t.description, product.description ?? t.noneGiven],
    [t.status, html`<span data-testid="product-status">${activeBadge(product.active, t)}</span>`],
    [t.images, images.length === 0 ? t.noneGiven : html`<span class="mono">${images.map((url, i) => html`${i === 0 ? '' : html`<br>`}${url}`)}</span>`],
    [t.metadata, metadataOf(product.metadata, t)],
    [t.created, timeOf(product.created)],
    [t.updated, timeOf(product.updated)],
  ]);
  const rows = detail.prices.rows.map((price) => html`<tr data-testid="price" data-id="${price.id}">
<td class="mono">${price.id}</td>
<td class="num" data-minor="${price.unit_amount}">${formatAmount(price.currency, price.unit_amount)}</td>
<td>${price.type === 'recurring' ? priceLabel(price, t).split(' · ')[1] : t.oneTime}</td>
<td>${activeBadge(price.active, t)}</td>
<td>${price.nickname ?? ''}</td>
<td class="mono">${price.lookup_key ?? ''}</td>
<td>${timeOf(price.created)}</td>
</tr>`);
  const prices = html`<section class="card" aria-labelledby="prices-title"><h2 id="prices-title">${t.prices}</h2><table class="list" data-testid="product-prices">
<thead><tr><th scope="col">ID</th><th scope="col" class="num">${t.amount}</th><th scope="col">${t.priceType}</th><th scope="col">${t.priceStatus}</th><th scope="col">${t.nickname}</th><th scope="col">${t.lookupKey}</th><th scope="col">${t.created}</th></tr></thead>
<tbody>${rows.length === 0 ? emptyRow(7, t.noPrices) : rows}</tbody></table>${pager(location, detail.prices)}</section>`;
  const heading = pageHeading(product.name, 'product-title', html`<a class="button small secondary" href="${modePath(PRODUCTS_PATH, livemode)}">${t.products}</a>`);
  const shown = state.notice === null ? '' : notice(state.notice.text, state.notice.tone);
  const form = session.operator.role === 'admin' && product.active === 1 ? newPriceForm(product.id, session, livemode, state, t) : '';
  return signedInPage(location, session, livemode, `${t.product} ${product.id}`, html`${heading}<p class="mono muted" data-testid="product-id">${product.id}</p>${shown}<section class="card" data-testid="product-facts">${facts}</section>${prices}${form}`);
}
