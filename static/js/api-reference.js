// The interactive API reference: Swagger UI on the API's OpenAPI document (no inline script).
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof SwaggerUIBundle !== "function") return;
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
    // The page has its own <main>; the viewer's inner one is no second landmark.
    onComplete: () => {
      for (const inner of root.querySelectorAll("main")) inner.setAttribute("role", "presentation");
    },
  });
});
