// floodgate report: sortable and filterable tables. Static code, no data from the report is
// ever turned into code; without JavaScript the tables stay plain, complete tables.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim().toLowerCase() : v;
  }
  function enhance(table, index) {
    var body = table.tBodies[0];
    var head = table.tHead && table.tHead.rows[0];
    if (!body || !head) return;
    var rows = Array.prototype.slice.call(body.rows);
    // the bans table always gets a filter; tiny tables (rules, reasons) do not need one
    if (rows.length >= 6 || table.getAttribute("data-name") === "bans") addFilter(table, rows, index);
    makeSortable(head, body, rows);
  }
  function addFilter(table, rows, index) {
    var tools = document.createElement("div");
    tools.className = "table-tools";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "filter";
    input.id = "filter-" + index;
    input.placeholder = "Filter " + rows.length + " rows…";
    input.setAttribute("aria-label", "Filter rows of " + (table.getAttribute("data-name") || "table"));
    var count = document.createElement("span");
    count.className = "count";
    count.setAttribute("aria-live", "polite");
    tools.appendChild(input);
    tools.appendChild(count);
    var host = table.parentNode.classList.contains("scroll") ? table.parentNode : table;
    host.parentNode.insertBefore(tools, host);
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (r) {
        var ok = !q || r.textContent.toLowerCase().indexOf(q) !== -1;
        r.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = q ? shown + " of " + rows.length + " rows" : "";
    });
  }
  function makeSortable(head, body, rows) {
    Array.prototype.forEach.call(head.cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      var numeric = th.getAttribute("data-type") === "num";
      button.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "descending" ? "ascending"
          : th.getAttribute("aria-sort") === "ascending" ? "descending"
          : numeric ? "descending" : "ascending";
        Array.prototype.forEach.call(head.cells, function (c) { c.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", dir);
        var sign = dir === "ascending" ? 1 : -1;
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (numeric) { x = parseFloat(x) || 0; y = parseFloat(y) || 0; }
          return x < y ? -sign : x > y ? sign : 0;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), enhance);
})();
