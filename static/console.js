// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Ask before destructive actions; without JavaScript the server asks instead. A form
  // with an "I understand" tick has asked already: no second question.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    var ticked = event.target.querySelector && event.target.querySelector("input[name=confirm]:checked");
    if (question && !ticked && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // "Select all on this page" of the user list: shown only where this script runs.
  document.querySelectorAll("input[data-select-all]").forEach(function (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("change", function () {
      var name = toggle.getAttribute("data-select-all");
      toggle.form.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
        box.checked = toggle.checked;
      });
    });
  });
  // Print buttons (the print stylesheet shows only the printable part).
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) {
      window.print();
    }
  });
  // The gear menu is a <details>: Escape closes it and gives the focus back to the gear.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var open = document.querySelector("details.gear[open]");
    if (open) {
      open.removeAttribute("open");
      open.querySelector("summary").focus();
    }
  });
})();
