// Canh console: keyboard navigation of tables marked `data-keys` (j/k move, Enter or o opens
// the row's first link, x ticks the row's checkbox). Loaded as a file, never inline, so the
// Content-Security-Policy can forbid inline script. Reads no record data.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const table = document.querySelector("table[data-keys]");
  if (!table) return;
  const rows = () => Array.from(table.querySelectorAll("tbody tr.row"));
  let at = -1;
  const select = (i) => {
    const all = rows();
    if (all.length === 0) return;
    at = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r, k) => r.classList.toggle("selected", k === at));
    all[at].scrollIntoView({ block: "nearest" });
  };
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const row = rows()[at];
    switch (e.key) {
      case "j": select(at + 1); break;
      case "k": select(at - 1); break;
      case "Enter":
      case "o": {
        const link = row && row.querySelector("a[href]");
        if (link) window.location.assign(link.href);
        break;
      }
      case "x": {
        const box = row && row.querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked;
        break;
      }
      default: return;
    }
    e.preventDefault();
  });
});
