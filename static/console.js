// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Ask before destructive actions; without JavaScript the server asks instead.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Print buttons (the print stylesheet shows only the printable part).
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) {
      window.print();
    }
  });
})();
