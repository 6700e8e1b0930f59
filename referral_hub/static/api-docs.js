/* Draws the reports API's documentation with the Swagger UI served by the app (no inline script: the CSP forbids it). */
(function () {
  "use strict";
  var target = document.getElementById("swagger-ui");
  // Swagger UI draws its server choice as a <select> without a label: name it for screen readers,
  // whenever Swagger UI (re)draws it.
  function labelServers() {
    var unnamed = target.querySelectorAll(".servers select:not([aria-label])");
    for (var i = 0; i < unnamed.length; i++) unnamed[i].setAttribute("aria-label", "Server");
  }
  new MutationObserver(labelServers).observe(target, { childList: true, subtree: true });
  window.ui = SwaggerUIBundle({
    url: target.getAttribute("data-spec-url"),
    domNode: target,
    // Without deep links the operation's path is text, not a link nested in the expand button.
    deepLinking: false,
    persistAuthorization: false,
    tryItOutEnabled: false,
    onComplete: labelServers
  });
})();
