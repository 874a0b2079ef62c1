// Share Desk's own script: small behaviours that need no inline JavaScript.
"use strict";

// "Copy handle" buttons copy the value of the input they name.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copyTarget);
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = "Copy handle"; }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => { input.select(); });
  } else {
    input.select();
    document.execCommand("copy");
    done();
  }
});

// "/" jumps to the list's search box, as in many admin tools (not while typing in a field).
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest("input, textarea, select, [contenteditable]")) return;
  const search = document.querySelector("[data-search-shortcut]");
  if (!search) return;
  event.preventDefault();
  search.focus();
  search.select();
});

// A form that changes something is sent once: its buttons are disabled while it is on its way.
// (The server acts on it once too, whatever the browser resends: webapp/once.py.) htmx forms
// disable their own buttons with hx-disabled-elt.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method !== "post" || form.hasAttribute("hx-post")) return;
  // After this turn: a button disabled now would not send its own name and value.
  setTimeout(() => {
    for (const button of form.querySelectorAll("button")) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
  });
});

// Coming back to a page from the browser's cache (Back), its buttons work again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const button of document.querySelectorAll("button[aria-busy]")) {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
});

// Bulk actions on the list. The bar's controls and the row checkboxes belong to the form "bulk";
// "select every share on this page" ticks them all, and the bar says how many are ticked. Without script the bar still
// works: the server asks for a selection when none came.
document.documentElement.classList.add("js");

const bulkRows = () => Array.from(document.querySelectorAll('input[name="id"][form="bulk"]'));

function updateBulk() {
  const bar = document.querySelector("[data-bulk-bar]");
  if (!bar) return;
  const all = bar.querySelector("[data-bulk-all]").checked;
  const rows = bulkRows();
  const ticked = rows.filter((row) => row.checked).length;
  for (const row of rows) row.disabled = all;
  const page = document.querySelector("[data-bulk-page]");
  if (page) {
    page.checked = rows.length > 0 && ticked === rows.length;
    page.disabled = all;
  }
  const count = bar.querySelector("[data-bulk-count]");
  if (all) count.textContent = "";
  else count.textContent = ticked ? `${ticked} ticked` : "Tick shares, or select all.";
  for (const button of bar.querySelectorAll("[data-bulk-action]")) {
    button.disabled = !all && ticked === 0;
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-bulk-page]")) {
    for (const row of bulkRows()) row.checked = event.target.checked;
  }
  if (event.target.closest("[form=bulk], [data-bulk-page]")) updateBulk();
});
document.addEventListener("DOMContentLoaded", updateBulk);
document.addEventListener("htmx:afterSettle", updateBulk);
window.addEventListener("pageshow", updateBulk);
