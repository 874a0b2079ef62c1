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
