/** The dashboard's stylesheet, inlined (one response per page, nothing from a CDN). */
export const DASHBOARD_STYLESHEET = `
:root { --blue: #1677ff; --blue-dark: #0958d9; --ink: #1f2329; --muted: #646a73; --line: #e5e6eb; --bg: #f5f6f8;
  --ok: #00b42a; --bad: #f53f3f; --warn: #ff7d00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 -apple-system, BlinkMacSystemFont, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", "Segoe UI", Roboto, sans-serif; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: 8px; z-index: 2; }
.skip:focus { left: 8px; }
.topbar { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 10px 20px; background: var(--blue); color: #fff; font-weight: 600; }
.topbar small { font-weight: 400; opacity: .85; margin-left: 4px; }
.brand { margin-right: 12px; }
.logo { display: inline-grid; place-items: center; width: 30px; height: 30px; border-radius: 8px; background: #fff; color: var(--blue); font-weight: 700; }
.nav { display: flex; gap: 4px; flex: 1; align-items: center; }
.nav a, .lang a, .modes a { color: #fff; text-decoration: none; padding: 4px 10px; border-radius: 6px; font-weight: 400; }
.nav a[aria-current], .modes a[aria-current] { background: rgba(255,255,255,.2); font-weight: 600; }
.lang a[aria-current] { font-weight: 600; text-decoration: underline; }
.lang, .modes { display: flex; gap: 2px; font-size: 14px; }
.who { font-weight: 400; font-size: 14px; opacity: .9; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #ffd666; outline-offset: 2px; }
.signout { margin: 0; }
.signout button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.6); border-radius: 6px; padding: 4px 10px; font: inherit; font-size: 14px; cursor: pointer; }
.dash { max-width: 1080px; margin: 24px auto; padding: 0 16px; display: grid; gap: 16px; }
.card { background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.06); padding: 20px 24px; }
.card h2 { margin: 0 0 12px; font-size: 18px; }
.signin { max-width: 400px; width: 100%; margin: 40px auto; }
.signin label { display: block; margin: 12px 0 4px; font-weight: 600; }
.signin input { width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; font: inherit; }
.button { display: inline-block; margin-top: 16px; padding: 10px 18px; border: 0; border-radius: 8px; background: var(--blue); color: #fff; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
.button:hover { background: var(--blue-dark); }
.alert { color: var(--bad); background: #fff1f0; border-radius: 8px; padding: 8px 12px; margin: 0 0 8px; }
.figures { width: 100%; border-collapse: collapse; }
.figures th, .figures td { text-align: right; padding: 6px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
.figures th:first-child, .figures td:first-child { text-align: left; }
.attention strong { font-size: 28px; margin-right: 8px; }
.attention.some strong { color: var(--warn); }
.chart { width: 100%; height: auto; margin-top: 12px; }
.legend { display: flex; gap: 16px; font-size: 13px; color: var(--muted); margin-top: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
.muted { color: var(--muted); font-size: 13px; }
.live-banner { background: var(--warn); color: #fff; text-align: center; padding: 4px; font-weight: 600; }
.page-heading { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 12px; }
.page-heading h1 { margin: 0; font-size: 22px; }
.page-actions { display: flex; gap: 8px; flex-wrap: wrap; }
.list { width: 100%; border-collapse: collapse; font-size: 14px; }
.list th, .list td { text-align: left; padding: 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.list th { color: var(--muted); font-weight: 600; font-size: 13px; }
.list td.num, .list th.num { text-align: right; white-space: nowrap; }
.list tbody tr:hover { background: #f7f9ff; }
.list .empty td { text-align: center; color: var(--muted); padding: 24px; }
.list a { color: var(--blue-dark); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #f2f3f5; color: var(--muted); white-space: nowrap; }
.badge.ok { background: #e8ffea; color: #009a29; }
.badge.bad { background: #ffece8; color: #cb2634; }
.badge.warn { background: #fff7e8; color: #d25f00; }
.details { display: grid; grid-template-columns: minmax(140px, max-content) 1fr; gap: 6px 16px; margin: 0; }
.details dt { color: var(--muted); }
.details dd { margin: 0; word-break: break-word; }
.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-end; }
.filters label, .form label { display: block; font-size: 13px; color: var(--muted); margin-bottom: 2px; }
input, select, textarea { padding: 7px 10px; border: 1px solid var(--line); border-radius: 8px; font: inherit; background: #fff; }
textarea { width: 100%; min-height: 80px; }
.form { display: grid; gap: 12px; max-width: 560px; }
.button.secondary { background: #fff; color: var(--blue-dark); border: 1px solid var(--blue); }
.button.secondary:hover { background: #f0f5ff; }
.button.danger { background: var(--bad); }
.button.danger:hover { background: #cb2634; }
.button.small { margin-top: 0; padding: 6px 12px; font-size: 14px; }
.filters .button { margin-top: 0; }
.pager { display: flex; gap: 8px; justify-content: flex-end; margin-top: 12px; }
.pager .button { margin-top: 0; }
.notice { border-radius: 8px; padding: 10px 14px; margin: 0; }
.notice.ok { background: #e8ffea; color: #00651a; }
.notice.bad { background: #fff1f0; color: #cb2634; }
.secret { display: block; padding: 10px; background: #fffbe6; border: 1px dashed var(--warn); border-radius: 8px; }
.timeline { list-style: none; margin: 0; padding: 0 0 0 16px; border-left: 2px solid var(--line); }
.timeline li { position: relative; padding: 0 0 14px 12px; }
.timeline li::before { content: ""; position: absolute; left: -23px; top: 6px; width: 10px; height: 10px; border-radius: 50%; background: var(--blue); border: 2px solid #fff; }
.timeline li.bad::before { background: var(--bad); }
.timeline li.warn::before { background: var(--warn); }
.timeline .when { color: var(--muted); font-size: 13px; margin-right: 8px; }
pre.body { max-height: 360px; overflow: auto; background: #f7f8fa; border-radius: 8px; padding: 10px; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
.tabs { display: flex; gap: 4px; flex-wrap: wrap; border-bottom: 1px solid var(--line); }
.tabs a { padding: 6px 12px; color: var(--ink); text-decoration: none; border-bottom: 2px solid transparent; }
.tabs a[aria-current] { border-color: var(--blue); color: var(--blue-dark); font-weight: 600; }
`;
