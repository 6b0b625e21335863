// The widget's own styles, inside its shadow root: page CSS cannot reach in, and these cannot leak out.
export const CSS = `
.r{--a:#2457c5;--af:#fff;--bg:#fff;--mu:#5b6475;--ln:#dde2ea;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2330;letter-spacing:normal;word-spacing:normal;text-transform:none;text-align:left;-webkit-font-smoothing:antialiased}
.r *,.r *::before,.r *::after{box-sizing:border-box}
[hidden]{display:none!important}
button,input,textarea{font:inherit;color:inherit;margin:0;letter-spacing:inherit;text-transform:none}
button{cursor:pointer;-webkit-appearance:none;appearance:none}
:focus{outline:none}
:focus-visible{outline:2px solid var(--a);outline-offset:2px}
input:focus-visible,textarea:focus-visible{outline-offset:0;border-color:var(--a)}
svg{width:22px;height:22px;fill:currentColor;display:block}
.l{position:fixed;right:20px;bottom:20px;width:58px;height:58px;padding:0;border-radius:50%;border:0;background:var(--a);color:var(--af);box-shadow:0 6px 18px rgba(10,20,40,.28);display:flex;align-items:center;justify-content:center;z-index:2147483000;transition:transform .15s}
.l:hover{transform:scale(1.06)}
.l svg{width:28px;height:28px}
.l:focus-visible{outline-color:#1d2330;outline-offset:3px}
.bg{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}
.p{position:fixed;right:20px;bottom:90px;width:370px;max-width:calc(100vw - 24px);height:580px;max-height:calc(100vh - 110px);background:var(--bg);border-radius:14px;box-shadow:0 12px 48px rgba(10,20,40,.3);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;animation:in .16s ease-out}
@keyframes in{from{opacity:0;transform:translateY(12px)}}
@media (prefers-reduced-motion:reduce){.p,.l{animation:none;transition:none}}
@media (max-width:480px){.p{left:8px;right:8px;width:auto;max-width:none;bottom:86px;max-height:calc(100vh - 96px)}}
.hd{background:var(--a);color:var(--af);padding:12px 10px 12px 16px;display:flex;align-items:center;gap:8px;flex:none}
.hd h2{font-size:16px;font-weight:600;margin:0;flex:1;line-height:1.3}
.hd .e{background:transparent;border:1px solid rgba(255,255,255,.6);color:inherit;border-radius:6px;padding:4px 10px;font-size:13px}
.hd .x{background:transparent;border:0;color:inherit;padding:4px;border-radius:6px}
.hd :focus-visible{outline-color:#fff}
.bd{flex:1;display:flex;flex-direction:column;min-height:0}
.st{padding:8px 16px;background:#f2f5fa;border-bottom:1px solid var(--ln);font-size:13px;color:var(--mu);flex:none}
.st:empty{display:none}
.log{flex:1;overflow-y:auto;padding:12px 14px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain}
.m{max-width:82%;display:flex;flex-direction:column;align-items:flex-start;align-self:flex-start}
.tx{background:#eef1f6;padding:8px 12px;border-radius:16px 16px 16px 4px;white-space:pre-wrap;overflow-wrap:anywhere}
.me{align-self:flex-end;align-items:flex-end}
.me .tx{background:var(--a);color:var(--af);border-radius:16px 16px 4px 16px}
.me a{color:inherit}
.pd .tx{opacity:.65}
.fl .tx{background:#fde8e6;color:#8a1c12}
.nt{align-self:center;align-items:center;max-width:92%;text-align:center}
.nt .tx{background:transparent;color:var(--mu);font-size:12.5px;padding:2px 4px}
.wh{font-size:12px;color:var(--mu);margin:0 4px 2px}
.mt{font-size:11px;color:#7a8294;margin:2px 4px 0}
.mt:empty{display:none}
.ty{padding:0 16px;font-size:12px;color:var(--mu);font-style:italic;min-height:18px;flex:none}
.cp{display:flex;align-items:flex-end;gap:6px;padding:8px 10px 10px;border-top:1px solid var(--ln);flex:none}
.cp textarea{flex:1;resize:none;border:1px solid #c5ccd8;border-radius:10px;padding:8px 10px;height:40px;max-height:120px;background:#fff;line-height:1.4}
.ib{width:40px;height:40px;border:0;border-radius:10px;background:transparent;color:var(--mu);display:flex;align-items:center;justify-content:center;padding:0;flex:none}
.ib:hover{background:#eef1f6}
.sd{background:var(--a);color:var(--af)}
.sd:hover{background:var(--a);filter:brightness(1.1)}
.fm{padding:16px;overflow-y:auto;display:flex;flex-direction:column;gap:12px}
.fm p{margin:0}
.fm label{display:flex;flex-direction:column;gap:4px;font-size:13px;font-weight:600}
.fm input,.fm textarea{border:1px solid #c5ccd8;border-radius:8px;padding:8px 10px;font-weight:400;background:#fff;width:100%}
.fm textarea{min-height:96px;resize:vertical}
.rq{color:var(--mu);font-weight:400}
.bt{background:var(--a);color:var(--af);border:0;border-radius:8px;padding:10px 14px;font-weight:600}
.b2{background:#fff;color:var(--a);border:1px solid var(--a);border-radius:8px;padding:9px 14px;font-weight:600}
.bt:disabled,.b2:disabled{opacity:.6;cursor:default}
.er{color:#b3261e;font-size:13px}
.er:empty{display:none}
.ok{background:#e7f5ec;color:#185c37;border-radius:8px;padding:12px}
.en{padding:12px 16px 16px;border-top:1px solid var(--ln);display:flex;flex-direction:column;gap:10px;flex:none}
.en p{margin:0}
.en form{display:flex;flex-direction:column;gap:8px}
.en input{border:1px solid #c5ccd8;border-radius:8px;padding:8px 10px;background:#fff}
`;
