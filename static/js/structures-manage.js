// Gérer une structure: choosing a type of request updates the page at once. Without
// this script the form still works with its "Valider" button.
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () {
      // submit(), not the button: the page adapts to the type without asking yet
      // for the structure.
      select.form.submit();
    });
  });
})();
