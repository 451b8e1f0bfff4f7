// Leaving a changed form asks first: "Les modifications apportées seront perdues",
// Quitter / Rester (DSFR modal for links inside the portal, the browser's own prompt
// when the tab is closed or reloaded).
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-warn-unsaved]");
  if (!forms.length) {
    return;
  }
  var dirty = false;
  forms.forEach(function (form) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  var modal = document.getElementById("modale-modifications-non-enregistrees");
  var leave = document.getElementById("quitter-sans-enregistrer");
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href]");
    if (!dirty || !link || link === leave || link.target === "_blank" || link.getAttribute("href").charAt(0) === "#") {
      return;
    }
    event.preventDefault();
    leave.setAttribute("href", link.href);
    window.dsfr(modal).modal.disclose();
  });
  leave.addEventListener("click", function () { dirty = false; });
})();

// Closing a message (layout/_messages.html): a listener, as the Content-Security-Policy
// refuses inline event handlers.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-close-alert]");
    var alert = button && button.closest(".fr-alert");
    if (alert) {
      alert.parentNode.removeChild(alert);
    }
  });
})();

// List filters (<details data-filters>, open in the page): on a phone they fold, so that
// the list comes first, unless the address applies one of them (the user must see what
// narrows the list). 48em is the DSFR's "md" breakpoint, where the filters go side by side.
(function () {
  "use strict";
  if (window.matchMedia("(min-width: 48em)").matches) {
    return;
  }
  var query = new URLSearchParams(window.location.search);
  document.querySelectorAll("details[data-filters]").forEach(function (details) {
    var applied = Array.prototype.some.call(details.querySelectorAll("[name]"), function (field) {
      return field.type !== "hidden" && field.type !== "submit" && (query.get(field.name) || "") !== "";
    });
    if (!applied) {
      details.open = false;
    }
  });
})();
