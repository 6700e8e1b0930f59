/* Draws the reports API's documentation with the Swagger UI served by the app (no inline script: the CSP forbids it). */
(function () {
  "use strict";
  var target = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: target.getAttribute("data-spec-url"),
    domNode: target,
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false
  });
})();
