// An import run's page (static/js/progress-panel.js polls): updates the bar while the dry run or
// the import is running, and reloads the page (for the report) when it ends. Included from the
// admin <head>, so it waits for the body.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var panel = document.querySelector(".import-progress[data-progress-url]");
  if (!panel || panel.getAttribute("data-running") !== "true") {
    return;
  }
  window.progressPanel(panel, {
    interval: 2000,
    fields: ["done", "total", "percent", "status_label"],
    running: function (data) {
      return Boolean(data.running);
    },
    finished: function () {
      window.location.reload();
    },
  });
});
