// The cart's and the checkout's reservation: when the 15 minutes are over while the page is open, say so and
// offer to set the pieces aside again (the page says it itself when loaded later).
(function () {
  var hold = document.getElementById("hold");
  var lapsed = document.getElementById("lapsed");
  if (!hold || !lapsed) {
    return;
  }
  var left = Date.parse(hold.getAttribute("data-lapses-at")) - Date.now();
  window.setTimeout(function () {
    hold.hidden = true;
    lapsed.setAttribute("role", "alert");
    lapsed.hidden = false;
  }, Math.max(left, 0) + 500);
})();
