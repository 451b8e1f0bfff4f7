// Choosers (form[data-chooser]): a GET form whose choices fill the page below it. Without
// JavaScript, each step has its button; with it, choosing is enough: the buttons are
// hidden and a change presses, for the user, the button that follows the list, as soon
// as every required list of that step is chosen.
(function () {
  "use strict";
  var follows = function (a, b) {
    return Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
  };
  document.querySelectorAll("form[data-chooser]").forEach(function (form) {
    var buttons = Array.prototype.slice.call(form.querySelectorAll("[data-chooser-button]"));
    // The DSFR class: a .fr-btn is displayed whatever its hidden attribute says.
    buttons.forEach(function (button) { button.classList.add("fr-hidden"); });
    form.querySelectorAll("select").forEach(function (select) {
      var go = function () {
        pending = false;
        var index = buttons.findIndex(function (button) { return follows(select, button); });
        if (index < 0) {
          return;
        }
        var button = buttons[index], previous = buttons[index - 1];
        var step = Array.prototype.filter.call(form.querySelectorAll("select[required]"), function (other) {
          return follows(other, button) && (!previous || follows(previous, other));
        });
        if (step.every(function (other) { return other.value; })) {
          form.requestSubmit(button);
        }
      };
      // Some browsers change a closed list at each arrow key: with the keyboard, the page
      // is updated on Enter or when leaving the list, not at every option passed.
      var keyboard = false, pending = false;
      select.addEventListener("pointerdown", function () { keyboard = false; });
      select.addEventListener("keydown", function (event) {
        keyboard = true;
        if (event.key === "Enter" && pending) {
          event.preventDefault();
          go();
        }
      });
      select.addEventListener("change", function () {
        if (keyboard) {
          pending = true;
        } else {
          go();
        }
      });
      select.addEventListener("blur", function () {
        if (pending) {
          go();
        }
      });
    });
  });
})();
