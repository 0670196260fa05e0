// The interactive API documentation: Swagger UI (static/vendor/swagger-ui) over this app's
// OpenAPI schema. "Try it out" uses the signed-in session (or a token given with Authorize);
// a change carries the page's CSRF token, as every form does. A static file, as the
// Content-Security-Policy wants: no inline script.
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  if (!element || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var csrfToken = element.getAttribute("data-csrftoken");
  window.SwaggerUIBundle({
    url: element.getAttribute("data-schema"),
    domNode: element,
    deepLinking: false,
    // No badge from the public validator: the page loads nothing from elsewhere.
    validatorUrl: null,
    requestInterceptor: function (request) {
      if (request.method && request.method.toUpperCase() !== "GET") {
        request.headers["x-csrftoken"] = csrfToken;
      }
      return request;
    },
  });
})();
