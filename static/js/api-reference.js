// The interactive API reference: Swagger UI on the API's OpenAPI document (no inline script).
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle !== "function") return;
  // The page has its own <main>; the viewer's inner one must be no second landmark. It is marked
  // presentational the moment the viewer draws it (an observer's callback runs before any other
  // script can look), and loses the tabindex the viewer gives it: a focusable element keeps its
  // role whatever it is marked (axe and Playwright counted two mains).
  const unmark = () => {
    for (const inner of root.querySelectorAll("main")) {
      if (inner.getAttribute("role") !== "presentation") inner.setAttribute("role", "presentation");
      if (inner.hasAttribute("tabindex")) inner.removeAttribute("tabindex");
    }
  };
  new MutationObserver(unmark).observe(root, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["role", "tabindex"],
  });
  SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // Nothing leaves this server: no badge from the public validator.
    validatorUrl: null,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
