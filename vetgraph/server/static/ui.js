// The query UI: YASGUI on this server's SPARQL endpoint, one tab per stored query.
// Configuration comes from the JSON block the page embeds (no inline script, so the page's
// Content-Security-Policy can forbid inline scripts).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("vetgraph-ui").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  // A share link carries its query in the fragment (#query=...&endpoint=...); YASGUI reads it and clears the
  // fragment while it starts, so look first: that tab, not a stored query, is then the one to show.
  var shared = /(^|[#&])query=/.test(window.location.hash);
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: "vetgraph-ui",  // tabs and edits are kept in the browser (localStorage)
    populateFromUrl: true,
    autoAddOnInit: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    // Offline: no prefix lookups at prefix.cc, no term lookups at LOV.
    yasqe: { autocompleters: ["variables"], resizeable: true, editorHeight: "320px" },
    // The graph's prefixes shorten IRIs and datatypes in the results; IRIs open in this window.
    yasr: { prefixes: config.prefixes, openIriInNewWindow: false }
  });
  var names = {};
  Object.keys(yasgui._tabs || {}).forEach(function (id) { names[yasgui.getTab(id).getName()] = true; });
  var fresh = !Object.keys(names).length;
  // Stored queries not yet among the tabs (first visit, or queries added since) get a tab each.
  config.tabs.forEach(function (tab, i) {
    if (names[tab.name]) { return; }
    yasgui.addTab(fresh && !shared && i === 0,
                  { name: tab.name, yasqe: { value: tab.query }, requestConfig: { endpoint: endpoint } });
  });
  if (!Object.keys(yasgui._tabs || {}).length) {
    yasgui.addTab(true, { name: "query", requestConfig: { endpoint: endpoint } });
  }
  // Result IRIs under the data's base open this server's page of the resource (/id/..., /graph/...).
  function localise(root) {
    root.querySelectorAll("a[href^='" + config.base + "']").forEach(function (a) {
      a.setAttribute("href", config.local + a.getAttribute("href").substring(config.base.length));
      a.setAttribute("target", "_self");  // a page of this site: same window, like every other link here
      a.removeAttribute("rel");
    });
  }
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) { if (node.querySelectorAll) { localise(node); } });
    });
  }).observe(document.getElementById("yasgui"), { childList: true, subtree: true });
  window.vetgraphYasgui = yasgui;
})();
