// Loaded on every page. After a failed submit, move focus to the error summary so that screen
// readers announce it and keyboard users start from the list of problems (each links to its field).
// Run again after "load": a form posted from a page reached by the skip link carries "#main" in
// its address, and the browser focuses that fragment once the page has loaded.
(function () {
  function focusSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary && document.activeElement !== summary && !summary.contains(document.activeElement)) {
      summary.focus();
    }
  }
  document.addEventListener("DOMContentLoaded", focusSummary);
  window.addEventListener("load", function () {
    window.setTimeout(focusSummary, 0);
  });
})();
