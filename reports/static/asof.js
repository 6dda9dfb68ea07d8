/* clausewatch "view as of": open the version of a document that was in force on a chosen date.
   The periods are the links of #as-of-list (newest first, each with its start in data-from), so the
   page works without this script; with it, a date picks the link. Nothing here touches innerHTML. */
(function () {
  "use strict";

  function endOfDay(value) {
    // A date names a whole day (UTC): the version in force at its end, as `clausewatch show --at` does.
    return new Date(value + "T23:59:59.999Z");
  }

  function inForce(items, moment) {
    for (var i = 0; i < items.length; i++) {  // newest first: the first period started by then
      if (new Date(items[i].getAttribute("data-from")) <= moment) { return items[i]; }
    }
    return null;
  }

  function start() {
    var form = document.getElementById("as-of-form");
    var input = document.getElementById("as-of-date");
    var output = document.getElementById("as-of-result");
    var items = document.querySelectorAll("#as-of-list li[data-from]");
    if (!form || !input || !output) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!input.value) { output.textContent = "Choose a date."; return; }
      var found = inForce(items, endOfDay(input.value));
      if (!found) {
        var oldest = items.length ? items[items.length - 1].getAttribute("data-from").slice(0, 10) : "never";
        output.textContent = "Not archived yet on " + input.value + ": the first capture is of " + oldest + ".";
        return;
      }
      window.location.href = found.querySelector("a").href;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
