import type { FastifyReply } from 'fastify';
import type { PageLanguage } from '../../domain/checkout_sessions.js';
import { html, SafeHtml, sendHtml } from '../pages/html.js';
import { DASHBOARD_STYLESHEET } from './styles.js';

export interface DashboardPage {
  title: string;
  lang: PageLanguage;
  /** The top bar's right side (navigation, language switch). */
  header: SafeHtml;
  body: SafeHtml;
}

function layout(page: DashboardPage): string {
  return html`<!doctype html>
<html lang="${page.lang === 'zh' ? 'zh-CN' : 'en'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="data:,">
<title>${page.title}</title>
<style>${new SafeHtml(DASHBOARD_STYLESHEET)}</style>
</head>
<body>
<a class="skip" href="#main">${page.lang === 'zh' ? '跳到主要内容' : 'Skip to content'}</a>
<header class="topbar"><span class="logo" aria-hidden="true">支</span><span class="brand">Zhifu <small>${page.lang === 'zh' ? '商户后台' : 'Dashboard'}</small></span>${page.header}</header>
<main id="main" class="dash">${page.body}</main>
</body>
</html>
`.markup;
}

/** The dashboard's pages need no script at all, so the CSP allows none; forms may only post back here. */
const DASHBOARD_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'none'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Sends a dashboard page. */
export function sendDashboardPage(reply: FastifyReply, statusCode: number, page: DashboardPage): FastifyReply {
  return sendHtml(reply, statusCode, layout(page), { csp: DASHBOARD_CSP, referrer: 'same-origin' });
}
