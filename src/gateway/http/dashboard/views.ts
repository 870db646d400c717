import type { PageLanguage } from '../../domain/checkout_sessions.js';
import type { HomeSummary, PeriodFigures } from '../../core/dashboard_home.js';
import type { OperatorSession } from '../../core/operators.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { formatAmount } from '../pages/checkout.js';
import { dailyChart } from './chart.js';
import type { DashboardPage } from './page.js';
import { DASHBOARD_PATH, LOGIN_PATH, LOGOUT_PATH } from './session.js';
import { DASHBOARD_TEXT } from './text.js';
import type { DashboardText } from './text.js';

/** Where a page is and how to link to variants of it (language, mode). */
export interface PageLocation {
  /** The request's path and query, e.g. `/dashboard?mode=live`. */
  url: string;
  lang: PageLanguage;
}

/** The same URL with one query parameter set (or removed with null). */
export function withParam(url: string, name: string, value: string | null): string {
  const parsed = new URL(url, 'http://dashboard.invalid');
  if (value === null) parsed.searchParams.delete(name);
  else parsed.searchParams.set(name, value);
  return `${parsed.pathname}${parsed.search}`;
}

function languageSwitch(location: PageLocation): SafeHtml {
  const link = (target: PageLanguage, label: string) => html`<a data-testid="lang-${target}" lang="${target === 'zh' ? 'zh-CN' : 'en'}" href="${withParam(location.url, 'lang', target)}"${target === location.lang ? html` aria-current="true"` : ''}>${label}</a>`;
  return html`<nav class="lang" aria-label="Language / 语言">${link('zh', '中文')}${link('en', 'English')}</nav>`;
}

/** A dashboard path in the mode a page shows: live pages link to live pages. */
export function modePath(path: string, livemode: boolean): string {
  if (!livemode) return path;
  return `${path}${path.includes('?') ? '&' : '?'}mode=live`;
}

/** The main navigation: each section and the paths that belong to it (the first is its link). */
const SECTIONS = [
  { testId: 'nav-home', label: 'home', paths: [DASHBOARD_PATH] },
  { testId: 'nav-payments', label: 'navPayments', paths: [`${DASHBOARD_PATH}/payments`] },
  { testId: 'nav-checkout', label: 'navCheckout', paths: [`${DASHBOARD_PATH}/checkout_sessions`, `${DASHBOARD_PATH}/products`] },
  { testId: 'nav-disputes', label: 'navDisputes', paths: [`${DASHBOARD_PATH}/disputes`] },
  { testId: 'nav-balance', label: 'navBalance', paths: [`${DASHBOARD_PATH}/balance`] },
  {
    testId: 'nav-developers', label: 'navDevelopers',
    paths: [`${DASHBOARD_PATH}/api_keys`, `${DASHBOARD_PATH}/webhooks`, `${DASHBOARD_PATH}/events`, `${DASHBOARD_PATH}/logs`, `${DASHBOARD_PATH}/audit`],
  },
] as const satisfies readonly { testId: string; label: keyof DashboardText; paths: readonly string[] }[];

function sectionOf(path: string): string {
  // Home is exact; every other section owns its paths and everything under them.
  const section = SECTIONS.find((entry) => entry.paths.some((prefix) => prefix === DASHBOARD_PATH ? path === prefix : path === prefix || path.startsWith(`${prefix}/`)));
  return section?.testId ?? '';
}

/** The navigation of a signed-in operator: the sections, the mode switch, the language, sign-out. */
function signedInHeader(location: PageLocation, session: OperatorSession, livemode: boolean): SafeHtml {
  const t = DASHBOARD_TEXT[location.lang];
  const current = sectionOf(new URL(location.url, 'http://dashboard.invalid').pathname);
  const links = SECTIONS.map((entry) => html`<a data-testid="${entry.testId}" href="${modePath(entry.paths[0], livemode)}"${entry.testId === current ? html` aria-current="page"` : ''}>${t[entry.label]}</a>`);
  const modes = session.operator.liveAccess
    ? html`<nav class="modes" aria-label="${t.modeSwitch}"><a data-testid="mode-test" href="${withParam(location.url, 'mode', null)}"${livemode ? '' : html` aria-current="true"`}>${t.testMode}</a><a data-testid="mode-live" href="${withParam(location.url, 'mode', 'live')}"${livemode ? html` aria-current="true"` : ''}>${t.liveMode}</a></nav>`
    : '';
  return html`<nav class="nav" aria-label="${t.nav}">${links}</nav>
${modes}${languageSwitch(location)}
<span class="who" data-testid="operator">${session.operator.email} · <span data-testid="role">${session.operator.role === 'admin' ? t.admin : t.viewer}</span></span>
<form class="signout" method="post" action="${LOGOUT_PATH}"><input type="hidden" name="csrf_token" value="${session.csrfToken}"><button type="submit" data-testid="sign-out">${t.signOut}</button></form>`;
}

/**
 * A page of a signed-in operator: the navigation above, the live banner when it shows live data,
 * then the page's own body. Every page module builds its pages with this.
 */
export function signedInPage(location: PageLocation, session: OperatorSession, livemode: boolean, title: string, body: SafeHtml): DashboardPage {
  const t = DASHBOARD_TEXT[location.lang];
  const banner = livemode ? html`<div class="live-banner" data-testid="live-banner">${t.liveMode}</div>` : '';
  return { title: `${title} · ${t.product}`, lang: location.lang, header: signedInHeader(location, session, livemode), body: html`${banner}${body}` };
}

export interface LoginView {
  csrfToken: string;
  email: string;
  error: boolean;
}

export function loginPage(location: PageLocation, view: LoginView): DashboardPage {
  const t = DASHBOARD_TEXT[location.lang];
  const action = location.lang === 'en' ? `${LOGIN_PATH}?lang=en` : LOGIN_PATH;
  const error = view.error ? html`<p class="alert" role="alert" data-testid="sign-in-error">${t.invalidCredentials}</p>` : '';
  const body = html`<section class="card signin" aria-labelledby="signin-title">
<h1 id="signin-title">${t.signInTitle}</h1>
${error}
<form method="post" action="${action}" data-testid="sign-in-form">
<input type="hidden" name="csrf_token" value="${view.csrfToken}">
<label for="email">${t.email}</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${view.email}"${view.error ? '' : html` autofocus`}>
<label for="password">${t.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${view.error ? html` autofocus` : ''}>
<button class="button" type="submit" data-testid="sign-in">${t.signIn}</button>
</form>
</section>`;
  return { title: `${t.signInTitle} · ${t.product}`, lang: location.lang, header: html`<span class="nav"></span>${languageSwitch(location)}`, body };
}

/** A page that only says something (refusals, errors), with a way back. */
export function messagePage(location: PageLocation, title: string, text: string, back: { href: string; label: string }, session: OperatorSession | null): DashboardPage {
  const t = DASHBOARD_TEXT[location.lang];
  const header = session === null ? html`<span class="nav"></span>${languageSwitch(location)}` : signedInHeader(location, session, false);
  const body = html`<section class="card" data-testid="message"><h1>${title}</h1><p>${text}</p><p><a class="button" href="${back.href}">${back.label}</a></p></section>`;
  return { title: `${title} · ${t.product}`, lang: location.lang, header, body };
}

function rate(value: number | null, t: DashboardText): string {
  return value === null ? t.noOutcome : `${(value * 100).toFixed(1)}%`;
}

function figuresRow(label: string, currency: string, period: PeriodFigures, t: DashboardText, testId: string): SafeHtml {
  return html`<tr data-testid="${testId}"><th scope="row">${label}</th><td data-field="volume" data-minor="${period.volume}">${formatAmount(currency, period.volume)}</td><td data-field="payments">${period.payments}</td><td data-field="success_rate">${rate(period.successRate, t)}</td><td data-field="refunded" data-minor="${period.refunded}">${formatAmount(currency, period.refunded)} (${period.refunds})</td></tr>`;
}

export function homePage(location: PageLocation, session: OperatorSession, summary: HomeSummary): DashboardPage {
  const t = DASHBOARD_TEXT[location.lang];
  const attention = html`<section class="card attention${summary.attentionCount > 0 ? ' some' : ''}" aria-labelledby="attention-title"><h2 id="attention-title">${t.attention}</h2><p><a data-testid="attention-link" href="${modePath(`${DASHBOARD_PATH}/payments?status=requires_attention`, summary.livemode)}"><strong data-testid="attention-count">${summary.attentionCount}</strong>${t.attentionText}</a></p></section>`;
  const currencies = summary.currencies.length === 0
    ? html`<section class="card"><p data-testid="no-payments">${t.noPayments}</p></section>`
    : summary.currencies.map((currency) => html`<section class="card" data-testid="currency-${currency.currency}" aria-labelledby="cur-${currency.currency}">
<h2 id="cur-${currency.currency}">${currency.currency}</h2>
<table class="figures"><thead><tr><th scope="col"></th><th scope="col">${t.volume}</th><th scope="col">${t.payments}</th><th scope="col">${t.successRate}</th><th scope="col">${t.refunds}</th></tr></thead>
<tbody>${figuresRow(t.today, currency.currency, currency.today, t, 'today')}${figuresRow(t.last30, currency.currency, currency.last30Days, t, 'last30')}</tbody></table>
${dailyChart(currency, t)}
</section>`);
  const body = html`<h1 class="sr-title" data-testid="home-title" data-mode="${summary.livemode ? 'live' : 'test'}">${t.home}</h1>${attention}${currencies}`;
  return signedInPage(location, session, summary.livemode, t.home, body);
}
