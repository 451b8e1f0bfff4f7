// Rattacher à plusieurs structures: the profile choice shows only the applications
// offered to at least one ticked structure, and appears once one is ticked. Hidden
// choices are disabled, so they are not sent. Without JavaScript, every application
// offered to one of the user's structures is shown; each structure receives only its own.
(function () {
  "use strict";
  document.querySelectorAll("form[data-attach-many]").forEach(function (form) {
    var profiles = form.querySelector("[data-profiles]");
    if (!profiles) {
      return;
    }
    var boxes = form.querySelectorAll("input[type=checkbox][data-public]");
    var groups = [];
    profiles.querySelectorAll("input[data-publics]").forEach(function (input) {
      var group = input.closest("fieldset");
      if (group && groups.indexOf(group) < 0) {
        groups.push(group);
      }
    });
    var update = function () {
      var ticked = Array.prototype.filter.call(boxes, function (box) { return box.checked; })
        .map(function (box) { return box.dataset.public; });
      // The DSFR class: a .fr-fieldset is displayed whatever its hidden attribute says.
      profiles.classList.toggle("fr-hidden", ticked.length === 0);
      groups.forEach(function (group) {
        var input = group.querySelector("input[data-publics]");
        var publics = input.dataset.publics ? input.dataset.publics.split(",") : [];
        var shown = ticked.length > 0 && (publics.length === 0 || publics.some(function (p) {
          return ticked.indexOf(p) >= 0;
        }));
        group.classList.toggle("fr-hidden", !shown);
        group.querySelectorAll("input").forEach(function (radio) { radio.disabled = !shown; });
      });
    };
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  });
})();
