// Parley's website chat widget. One tag embeds it:
//   <script src="https://HOST/widget.js" data-tenant="demo" async></script>
// The API is the origin the script came from. Optional: data-lang (asks the tenant's strings in a
// language), data-color (the accent, #rgb or #rrggbb).
import { Widget } from "./ui.ts";

const w = window as unknown as { __parleyChat?: boolean };
// currentScript is only set while this runs; an async script may lose it, so look for the tag too.
const script = (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>('script[data-tenant][src*="widget.js"]');
const tenant = script?.dataset.tenant;
if (script?.src && tenant && !w.__parleyChat) {
  w.__parleyChat = true;
  const o = { base: new URL(script.src, location.href).origin, tenant, lang: script.dataset.lang, color: script.dataset.color };
  const start = () => new Widget(o);
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
}
