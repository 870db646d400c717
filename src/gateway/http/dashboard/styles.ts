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
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #ffd666; outline-offset: 2px; }
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
`;
