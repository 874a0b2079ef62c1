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
