/* The issue page's scheduling form starts in the editor's own time zone (from the browser). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-browser-timezone]");
    if (!form || !window.Intl) {
      return;
    }
    var select = form.querySelector("select[name=time_zone]");
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (select && zone && select.querySelector('option[value="' + zone + '"]')) {
      select.value = zone;
    }
  });
})();
