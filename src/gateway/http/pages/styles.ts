/** The hosted checkout page's one stylesheet, inlined so a page is a single response. */
export const PAGE_STYLESHEET = `
:root { --blue: #1677ff; --blue-dark: #0958d9; --ink: #1f2329; --muted: #646a73; --line: #e5e6eb; --bg: #f5f6f8;
  --ok: #00b42a; --bad: #f53f3f; --warn: #ff7d00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.5 -apple-system, BlinkMacSystemFont, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", "Segoe UI", Roboto, sans-serif; }
.topbar { display: flex; align-items: center; gap: 10px; padding: 12px 20px; background: var(--blue); color: #fff; font-weight: 600; }
.topbar small { font-weight: 400; opacity: .85; margin-left: 4px; }
.brand { flex: 1; }
.lang { display: flex; gap: 8px; font-weight: 400; font-size: 14px; }
.lang a { color: #fff; opacity: .8; text-decoration: none; }
.lang a[aria-current] { opacity: 1; font-weight: 600; text-decoration: underline; }
.logo { display: inline-grid; place-items: center; width: 30px; height: 30px; border-radius: 8px; background: #fff; color: var(--blue); font-weight: 700; }
.container { max-width: 880px; margin: 24px auto; padding: 0 16px; display: grid; grid-template-columns: 1fr 1fr; gap: 16px; align-items: start; }
.container > .wide { grid-column: 1 / -1; }
.card { background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.06); padding: 24px; }
.merchant { color: var(--muted); font-size: 15px; margin: 0; overflow-wrap: anywhere; }
.amount { font-size: 34px; font-weight: 700; margin: 4px 0 16px; font-variant-numeric: tabular-nums; }
.amount .currency { font-size: 18px; font-weight: 600; margin-right: 6px; color: var(--muted); }
.items { list-style: none; margin: 0; padding: 0; border-top: 1px solid var(--line); }
.items li { display: flex; justify-content: space-between; gap: 12px; padding: 10px 0; border-bottom: 1px solid var(--line); }
.items .name { overflow-wrap: anywhere; }
.items .qty { color: var(--muted); font-size: 14px; }
.items .line-amount { white-space: nowrap; font-variant-numeric: tabular-nums; }
.total { display: flex; justify-content: space-between; font-weight: 700; padding-top: 12px; }
.pay { display: flex; flex-direction: column; align-items: center; text-align: center; }
.qr-code { width: 264px; height: 264px; max-width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
.qr-code svg { display: block; width: 100%; height: 100%; }
.hint { color: var(--muted); font-size: 14px; margin: 12px 0 0; }
.countdown { font-weight: 600; color: var(--warn); font-variant-numeric: tabular-nums; }
.button { display: inline-block; border: 0; border-radius: 8px; padding: 14px 22px; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; text-align: center; }
.button-primary { background: var(--blue); color: #fff; width: 100%; }
.button-primary:hover { background: var(--blue-dark); }
.cancel { display: block; margin-top: 16px; color: var(--muted); font-size: 14px; }
.state { text-align: center; padding: 32px 24px; }
.state .icon { display: inline-grid; place-items: center; width: 64px; height: 64px; border-radius: 50%; color: #fff; font-size: 34px; margin-bottom: 12px; background: #86909c; }
.state-complete .icon { background: var(--ok); }
.state-failed .icon, .state-error .icon { background: var(--bad); }
.state h2 { margin: 0 0 8px; font-size: 22px; }
.state p { margin: 4px 0; color: var(--muted); overflow-wrap: anywhere; }
.error { background: #fff1f0; color: var(--bad); border-radius: 8px; padding: 10px 12px; margin: 0 0 16px; overflow-wrap: anywhere; }
@media (max-width: 720px) { .container { grid-template-columns: 1fr; margin: 12px auto; } .card { padding: 18px; } .amount { font-size: 28px; } }
`;
