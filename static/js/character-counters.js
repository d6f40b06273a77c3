/* Live character counters for the issue's email subject and preheader: each field with a
   data-count-max attribute (set by editorial/admin.py from the email checks' limits) shows
   "n / max characters" beside it, marked when it is over. Characters are counted as the
   checks count them (Python's len: code points, not UTF-16 units). */
(function () {
  "use strict";

  function length(text) {
    return Array.from(text).length;
  }

  function attach(field) {
    var max = parseInt(field.getAttribute("data-count-max"), 10);
    if (!max) {
      return;
    }
    var counter = document.createElement("span");
    counter.className = "character-count";
    counter.id = field.id + "-count";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);

    function update() {
      var used = length(field.value);
      var over = used > max;
      counter.textContent = used + " / " + max + " characters" + (over ? ": " + (used - max) + " too many" : "");
      counter.classList.toggle("character-count-over", over);
    }
    field.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-count-max]").forEach(attach);
  });
})();
