// Gérer les habilitations: changes staged by an earlier step of the page (Ajouter, the
// pencil, the cross) are not saved yet, so leaving the page must warn as if the form
// had just been changed. portail.js listens for "input" on the form.
(function () {
  "use strict";
  var form = document.querySelector("form[data-staged-changes]");
  if (form) {
    form.dispatchEvent(new Event("input", { bubbles: true }));
  }
})();
