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
})();
