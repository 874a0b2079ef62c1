// Share Desk's own script: small behaviours that need no inline JavaScript.
"use strict";

// Copy buttons: each copies its own value (data-copy) or the value of the input it names
// (data-copy-target), says "Copied" for a moment, then shows its own label again. A screen
// reader hears what was copied through the page's status region.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy], [data-copy-target]");
  if (!button) return;
  const input = button.dataset.copyTarget && document.getElementById(button.dataset.copyTarget);
  const value = input ? input.value : button.dataset.copy;
  if (!button.dataset.label) button.dataset.label = button.textContent;
  const done = () => {
    button.textContent = "Copied";
    announce(`${button.dataset.copyWhat || "Value"} copied.`);
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(() => { button.textContent = button.dataset.label; }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(value).then(done, () => copyBySelection(value, input) && done());
  } else if (copyBySelection(value, input)) {
    done();
  }
});

// Where the Clipboard API is missing (plain HTTP to a named host): select the text and copy it.
function copyBySelection(value, input) {
  const field = input || Object.assign(document.createElement("textarea"), { value });
  if (!input) {
    field.setAttribute("readonly", "");
    field.className = "visually-hidden";
    document.body.append(field);
  }
  field.select();
  const copied = document.execCommand("copy");
  if (!input) field.remove();
  return copied;
}

function announce(text) {
  const region = document.getElementById("announcer");
  if (region) region.textContent = text;
}

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

// The display time zone: a staff member who has none yet gets their browser's, once: sent
// with the sign-in, or else by the first page that finds them without one.
document.addEventListener("DOMContentLoaded", () => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const input of document.querySelectorAll("[data-browser-zone]")) input.value = zone || "";
});
document.addEventListener("DOMContentLoaded", () => {
  const url = document.body.dataset.detectZone;
  if (!url) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  fetch(url, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ timezone: zone }),
    credentials: "same-origin",
  }).then(() => { delete document.body.dataset.detectZone; }, () => {});
});

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// A part of the page that htmx could not update says so, in words, with a way to try again.
const STATUS_WORDS = {
  400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
  408: "Request Timeout", 409: "Conflict", 413: "Content Too Large",
  422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error",
  502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};
const STATUS_HINTS = {
  401: "Your session may have ended: sign in again.",
  403: "Your role may not do this.",
  404: "It may have been deleted meanwhile.",
  429: "Too many requests at once.",
  503: "The server is busy or its database is out of reach for a moment.",
};
let lastFailed = null;

function showProblem(detail, heading, words) {
  const box = document.getElementById("request-problem");
  if (!box) return;
  lastFailed = detail;
  const retryAfter = detail.xhr && detail.xhr.getResponseHeader("Retry-After");
  const wait = retryAfter && /^\d+$/.test(retryAfter) ? ` Try again in ${retryAfter} seconds.` : "";
  const message = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = heading;
  message.append(strong, ` ${words}${wait}`);
  const retry = Object.assign(document.createElement("button"), { type: "button", textContent: "Retry" });
  retry.dataset.problemRetry = "";
  const dismiss = Object.assign(document.createElement("button"), { type: "button", textContent: "Dismiss" });
  dismiss.dataset.problemDismiss = "";
  box.replaceChildren(message, retry, dismiss);
  box.hidden = false;
}

function clearProblem() {
  const box = document.getElementById("request-problem");
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
  lastFailed = null;
}

document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const words = STATUS_WORDS[status] || "Error";
  const hint = STATUS_HINTS[status] || "Nothing on the page was changed.";
  showProblem(event.detail, `This part of the page could not be updated: the server answered ${status} ${words}.`, hint);
});

document.addEventListener("htmx:sendError", (event) => {
  showProblem(event.detail, "This part of the page could not be updated: the server could not be reached.",
    "Check the connection.");
});

document.addEventListener("htmx:timeout", (event) => {
  showProblem(event.detail, "This part of the page could not be updated: the server took too long to answer.", "");
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-problem-dismiss]")) {
    clearProblem();
  } else if (event.target.closest("[data-problem-retry]") && lastFailed) {
    const { elt, target, requestConfig, pathInfo } = lastFailed;
    clearProblem();
    // A newer request from the same element may replace it (hx-sync): nothing to report.
    htmx.ajax(requestConfig.verb, pathInfo.requestPath, { source: elt, target }).catch(() => {});
  }
});

// Requests that take more than ~300 ms show "Loading…"; quicker ones show nothing. A poll in
// the background (a job's progress, data-poll) is nothing the person waits for: it neither dims
// its part of the page nor shows "Loading…" (a dimmed part every second is a blinking page, and
// its grey text fails the contrast rule while it lasts).
let pending = 0;
let loadingTimer = null;
const waitedFor = (event) => !event.detail.elt.closest("[data-poll]");

document.addEventListener("htmx:beforeRequest", (event) => {
  if (!waitedFor(event)) return;
  pending += 1;
  if (event.detail.target) event.detail.target.setAttribute("aria-busy", "true");
  if (pending === 1) {
    loadingTimer = setTimeout(() => {
      const loading = document.getElementById("loading");
      if (loading) loading.hidden = false;
    }, 300);
  }
});

document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful && lastFailed && lastFailed.elt === event.detail.elt) clearProblem();
  if (!waitedFor(event)) return;
  pending = Math.max(0, pending - 1);
  if (event.detail.target) event.detail.target.removeAttribute("aria-busy");
  if (pending === 0) {
    clearTimeout(loadingTimer);
    const loading = document.getElementById("loading");
    if (loading) loading.hidden = true;
  }
});
