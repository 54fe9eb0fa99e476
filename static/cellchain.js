// Scan boxes: a keyboard-wedge scanner types its data and presses Enter, which submits the form.
// Keep focus in the scan box so the next scan lands there, as the people at a scan station expect.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-scan]");
  if (!box) { return; }
  box.focus();
  box.select();
  document.addEventListener("click", function (event) {
    var tag = event.target.tagName;
    if (tag !== "INPUT" && tag !== "SELECT" && tag !== "TEXTAREA" && tag !== "BUTTON" && tag !== "A" &&
        tag !== "LABEL" && tag !== "SUMMARY") {
      box.focus();
    }
  });
  // The browser's own Enter would also submit; this strips what wedge scanners add around the data.
  box.form && box.form.addEventListener("submit", function () {
    box.value = box.value.replace(/[\r\n\t]+$/, "");
  });
});

// On a phone or a tablet held upright a table with many columns cannot fit. Each cell is given its
// column's heading, and the stylesheet lays every row out as a card of "heading: value" lines there.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("table.grid").forEach(function (table) {
    var headRow = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!headRow) { return; }
    var headings = [];
    Array.prototype.forEach.call(headRow.cells, function (cell) {
      for (var span = 0; span < (cell.colSpan || 1); span++) { headings.push(cell.textContent.trim()); }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && headings[column]) { cell.setAttribute("data-label", headings[column]); }
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("stackable");
  });
});
