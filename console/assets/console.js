// Canh console: keyboard navigation of tables marked `data-keys` (j/k move, Enter or o opens
// the row's first link, x ticks the row's checkbox), and the classification wizard one step at
// a time. Loaded as a file, never inline, so the Content-Security-Policy can forbid inline
// script. Reads no record data.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The wizard: each fieldset a step, with back and next; without script every step shows.
  const wizard = document.querySelector("form.wizard");
  if (wizard) {
    const steps = Array.from(wizard.querySelectorAll("fieldset"));
    const submit = wizard.querySelector("button[type=submit]");
    const nav = document.createElement("p");
    nav.className = "wizard-nav";
    const make = (label, cls) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = label;
      nav.appendChild(b);
      return b;
    };
    const back = make(wizard.dataset.back || "<", "wizard-back");
    const next = make(wizard.dataset.next || ">", "wizard-next");
    const counter = document.createElement("span");
    nav.appendChild(counter);
    submit.before(nav);
    let at = 0;
    const show = () => {
      steps.forEach((s, i) => { s.hidden = i !== at; });
      back.disabled = at === 0;
      next.hidden = at === steps.length - 1;
      submit.hidden = at !== steps.length - 1;
      counter.textContent = ` ${at + 1} / ${steps.length}`;
    };
    back.addEventListener("click", () => { at = Math.max(0, at - 1); show(); });
    next.addEventListener("click", () => {
      // A step is left only when what it asks is answered (the type, in step 1).
      if (!steps[at].querySelectorAll("input,select").length || Array.from(steps[at].querySelectorAll("input,select")).every((x) => x.checkValidity())) {
        at = Math.min(steps.length - 1, at + 1);
        show();
      } else {
        wizard.reportValidity();
      }
    });
    show();
  }
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
