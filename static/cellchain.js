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
