// Voortgang: the little JavaScript the pages need beyond htmx. No inline scripts (CSP).
(function () {
  "use strict";
  var messages = {
    nl: "Er ging iets mis (%s). Vernieuw de pagina en probeer het opnieuw.",
    en: "Something went wrong (%s). Reload the page and try again."
  };
  function errorBox() { return document.getElementById("htmx-error"); }
  document.addEventListener("htmx:responseError", function (event) {
    var box = errorBox();
    if (!box) return;
    var xhr = event.detail.xhr;
    var lang = document.documentElement.lang === "en" ? "en" : "nl";
    var text = (xhr && xhr.responseText && xhr.getResponseHeader("content-type") &&
      xhr.getResponseHeader("content-type").indexOf("text/plain") === 0)
      ? xhr.responseText
      : messages[lang].replace("%s", xhr ? xhr.status : "?");
    box.textContent = text;
  });
  document.addEventListener("htmx:sendError", function () {
    var box = errorBox();
    if (box) box.textContent = document.documentElement.lang === "en"
      ? "The server could not be reached. Check your connection and try again."
      : "De server is niet bereikbaar. Controleer de verbinding en probeer het opnieuw.";
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = errorBox();
    if (box) box.textContent = "";
  });
  // The language switch returns to this page, query string and all (less `lang`, which the
  // switch itself sets): when htmx moves the address (the activity list's filters), its links
  // follow, as the server writes them for a page loaded at that address.
  document.addEventListener("htmx:pushedIntoHistory", function () {
    var params = new URLSearchParams(window.location.search);
    params.delete("lang");
    var query = params.toString();
    var next = window.location.pathname + (query ? "?" + query : "");
    document.querySelectorAll(".language-switch a[hreflang]").forEach(function (link) {
      var url = new URL(link.href);
      url.searchParams.set("next", next);
      link.setAttribute("href", url.pathname + url.search);
    });
  });
  // After an in-place swap, keep the keyboard focus where the work is: on the first field of
  // an editing form that appeared, or on the change link of the content that replaced it.
  document.addEventListener("htmx:load", function (event) {
    var element = event.detail.elt;
    if (!element || element === document.body || !element.querySelector) return;
    var form = element.matches(".status-form") ? element : element.querySelector(".status-form");
    if (form) {
      var field = form.querySelector("select, textarea, input:not([type=hidden])");
      if (field) field.focus();
      return;
    }
    // The to-do list after confirming a selection: its outcome is at the top of the list.
    if (element.id === "todo-content") {
      var outcome = element.querySelector("#todo-done, #todo-refused");
      if (outcome) outcome.focus();
      return;
    }
    // Only for an activity that was just edited, not for a refreshed list.
    if (!/^activity-\d+(-current)?$/.test(element.id || "")) return;
    var link = element.querySelector("a[hx-get]");
    if (link) link.focus({ preventScroll: true });
  });
})();
