/** The one stylesheet of the cashier and wallet pages, inlined so a page is a single response. */
export const PAGE_STYLESHEET = `
:root { --blue: #1677ff; --blue-dark: #0958d9; --ink: #1f2329; --muted: #646a73; --line: #e5e6eb; --bg: #f5f6f8;
  --ok: #00b42a; --bad: #f53f3f; --warn: #ff7d00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 16px/1.5 -apple-system, BlinkMacSystemFont, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", "Segoe UI", Roboto, sans-serif; }
.topbar { display: flex; align-items: center; gap: 10px; padding: 12px 20px; background: var(--blue); color: #fff; font-weight: 600; }
.topbar small { font-weight: 400; opacity: .85; margin-left: 4px; }
.logo { display: inline-grid; place-items: center; width: 30px; height: 30px; border-radius: 8px; background: #fff; color: var(--blue); font-weight: 700; }
.container { max-width: 480px; margin: 24px auto; padding: 0 16px; }
.card { background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.06); padding: 24px; margin-bottom: 16px; }
h1 { font-size: 20px; margin: 0 0 16px; }
.merchant { color: var(--muted); font-size: 15px; margin: 0; overflow-wrap: anywhere; }
.amount { font-size: 34px; font-weight: 700; margin: 4px 0 8px; letter-spacing: .5px; font-variant-numeric: tabular-nums; }
.amount .currency { font-size: 18px; font-weight: 600; margin-right: 6px; color: var(--muted); }
.description { margin: 0 0 12px; overflow-wrap: anywhere; }
.facts { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 12px 0 0; font-size: 14px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.countdown { font-weight: 600; color: var(--warn); font-variant-numeric: tabular-nums; }
.qr { display: flex; flex-direction: column; align-items: center; text-align: center; }
.qr-code { width: 264px; height: 264px; max-width: 100%; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
.qr-code svg { display: block; width: 100%; height: 100%; }
.hint { color: var(--muted); font-size: 14px; margin: 12px 0 0; }
.code-text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.state { text-align: center; padding: 32px 24px; }
.state .icon { display: inline-grid; place-items: center; width: 64px; height: 64px; border-radius: 50%; color: #fff; font-size: 34px; margin-bottom: 12px; }
.state h2 { margin: 0 0 8px; font-size: 22px; }
.state p { margin: 4px 0; color: var(--muted); overflow-wrap: anywhere; }
.state .result-code { font-size: 17px; overflow-wrap: anywhere; }
.state .button { margin-top: 12px; }
.state-paid .icon { background: var(--ok); }
.state-paid h2 { color: var(--ok); }
.state-failed .icon, .state-expired .icon, .state-closed .icon { background: var(--bad); }
.state-expired .icon, .state-closed .icon { background: #86909c; }
.state-failed h2 { color: var(--bad); }
.button, button { display: inline-block; border: 0; border-radius: 8px; padding: 12px 20px; font: inherit; font-weight: 600; cursor: pointer;
  text-decoration: none; text-align: center; }
.button-primary { background: var(--blue); color: #fff; }
.button-primary:hover { background: var(--blue-dark); }
.button-secondary { background: #fff; color: var(--ink); border: 1px solid var(--line); }
.actions { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-top: 20px; }
.shoppers { border: 0; padding: 0; margin: 0; min-width: 0; }
.shoppers legend { font-weight: 600; margin-bottom: 8px; }
.shopper { display: flex; gap: 12px; align-items: flex-start; padding: 12px; border: 1px solid var(--line); border-radius: 8px; margin-bottom: 8px; cursor: pointer; }
.shopper:has(input:checked) { border-color: var(--blue); background: #f0f6ff; }
.shopper input { margin-top: 4px; accent-color: var(--blue); }
.shopper .who { font-weight: 600; }
.shopper .what { color: var(--muted); font-size: 14px; }
.badge { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 4px; background: #e8f3ff; color: var(--blue); margin-left: 6px; font-weight: 500; }
.link { color: var(--blue); text-decoration: none; }
.link:hover { text-decoration: underline; }
.center { text-align: center; }
label.field { display: block; font-weight: 600; margin-bottom: 8px; }
label.field small { font-weight: 400; color: var(--muted); font-size: 14px; }
input[type=text], textarea { width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; font: inherit; font-size: 15px; }
input[type=text]:focus, textarea:focus { outline: 2px solid var(--blue); border-color: transparent; }
.error { background: #fff1f0; color: var(--bad); border-radius: 8px; padding: 10px 12px; margin-bottom: 16px; overflow-wrap: anywhere; }
.stack > * + * { margin-top: 12px; }
.section-title { font-size: 18px; margin: 0 0 12px; }
.choices { border: 0; padding: 0; margin: 0; min-width: 0; }
.choices legend { font-weight: 600; margin-bottom: 8px; }
.choice { display: flex; gap: 8px; align-items: center; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; margin-bottom: 8px; cursor: pointer; }
.choice:has(input:checked) { border-color: var(--blue); background: #f0f6ff; }
select { width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; font: inherit; font-size: 15px; background: #fff; }
.dispute-result h2 { color: var(--ok); margin: 0 0 8px; font-size: 20px; }
.disputes { list-style: none; padding: 0; margin: 0 0 16px; }
.disputes li { padding: 8px 0; border-bottom: 1px solid var(--line); font-size: 14px; }
@media (max-width: 420px) { .container { margin: 12px auto; } .card { padding: 18px; } .amount { font-size: 28px; } }
`;
