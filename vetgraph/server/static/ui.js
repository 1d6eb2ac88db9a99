// The query UI: YASGUI on this server's SPARQL endpoint, one tab per stored query.
// Configuration comes from the JSON block the page embeds (no inline script, so the page's
// Content-Security-Policy can forbid inline scripts).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("vetgraph-ui").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: false,
    autoAddOnInit: false,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    // Offline: no prefix lookups at prefix.cc, no term lookups at LOV.
    yasqe: { autocompleters: ["variables"], resizeable: true, editorHeight: "320px" },
    yasr: { prefixes: {} }
  });
  config.tabs.forEach(function (tab, i) {
    yasgui.addTab(i === 0, { name: tab.name, yasqe: { value: tab.query }, requestConfig: { endpoint: endpoint } });
  });
  if (!config.tabs.length) {
    yasgui.addTab(true, { name: "query", requestConfig: { endpoint: endpoint } });
  }
  window.vetgraphYasgui = yasgui;
})();
