// Static search: the labels in search.json, searched in the browser (no server, no CDN). Every word of the
// query must occur in a resource's label, title or type, ignoring case and accents. Results are built with
// textContent, so a label is never read as markup. Without this script the page shows the full listing.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  if (!form) { return; }
  var input = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var count = document.getElementById("search-count");
  var listing = document.getElementById("listing");
  var prefix = form.getAttribute("data-prefix") || "";
  var entries = [];
  var LIMIT = 50;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function show() {
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    results.textContent = "";
    listing.hidden = words.length > 0;
    if (!words.length) { count.textContent = ""; return; }
    var found = entries.filter(function (e) {
      return words.every(function (w) { return e.folded.indexOf(w) >= 0; });
    });
    count.textContent = found.length + (found.length === 1 ? " resource" : " resources") +
      (found.length > LIMIT ? ", the first " + LIMIT + " shown" : "");
    found.slice(0, LIMIT).forEach(function (e) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = prefix + e.path;
      link.textContent = e.label;
      item.appendChild(link);
      if (e.title) {
        var title = document.createElement("span");
        title.textContent = ": " + e.title;
        item.appendChild(title);
      }
      if (e.type) {
        var type = document.createElement("span");
        type.className = "muted";
        type.textContent = " · " + e.type;
        item.appendChild(type);
      }
      results.appendChild(item);
    });
  }

  fetch(form.getAttribute("data-index"))
    .then(function (answer) { return answer.json(); })
    .then(function (data) {
      entries = data.map(function (e) { e.folded = fold([e.label, e.title, e.type].join(" ")); return e; });
      form.hidden = false;
      var given = new URLSearchParams(window.location.search).get("q");
      if (given) { input.value = given; }
      show();
    });
  input.addEventListener("input", show);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
})();
