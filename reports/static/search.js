/* clausewatch search: a vanilla filter over window.CLAUSEWATCH_SEARCH (loaded by search-index.js).
   Results are built with textContent only, never innerHTML: indexed text is crawled and hostile. */
(function () {
  "use strict";
  var MAX_RESULTS = 50;
  var SEVERITY_ORDER = { high: 0, medium: 1, low: 2, "": 3 };

  function terms(query) {
    return query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
  }

  function matches(entry, words) {
    var hay = (entry.t + " " + entry.x).toLowerCase();
    return words.every(function (w) { return hay.indexOf(w) !== -1; });
  }

  function rank(entry) {
    var kind = { platform: 0, type: 1, record: 2, document: 3 }[entry.k];
    return kind * 10 + (SEVERITY_ORDER[entry.s || ""] || 0);
  }

  function item(entry) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = entry.u;
    link.textContent = entry.t;
    li.appendChild(link);
    var kind = document.createElement("span");
    kind.className = "tag";
    kind.textContent = entry.k + (entry.s ? " · " + entry.s : "");
    li.appendChild(document.createTextNode(" "));
    li.appendChild(kind);
    if (entry.x && entry.k === "record") {
      var text = document.createElement("p");
      text.className = "excerpt";
      text.textContent = entry.x;
      li.appendChild(text);
    }
    return li;
  }

  function run(query) {
    var list = document.getElementById("search-results");
    var status = document.getElementById("search-status");
    var index = window.CLAUSEWATCH_SEARCH || [];
    var words = terms(query);
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (words.length === 0) { return; }
    var found = index.filter(function (e) { return matches(e, words); });
    found.sort(function (a, b) { return rank(a) - rank(b); });
    found.slice(0, MAX_RESULTS).forEach(function (e) { list.appendChild(item(e)); });
    status.textContent = found.length + " result" + (found.length === 1 ? "" : "s") + " for \u201c" + query + "\u201d" +
      (found.length > MAX_RESULTS ? " (first " + MAX_RESULTS + " shown)" : "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("q");
    var query = new URLSearchParams(window.location.search).get("q") || "";
    input.value = query;
    run(query);
    input.addEventListener("input", function () { run(input.value); });
  });
})();
