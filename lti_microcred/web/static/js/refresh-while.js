// A page that shows work still under way (data-refresh-while="SECONDS" on its status element) reloads itself
// every SECONDS until the server no longer renders that element, unless the person is typing in a form.
(function () {
  var el = document.querySelector("[data-refresh-while]");
  if (!el) { return; }
  var seconds = Math.max(2, parseInt(el.getAttribute("data-refresh-while"), 10) || 5);
  setTimeout(function tick() {
    var active = document.activeElement;
    if (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { setTimeout(tick, seconds * 1000); return; }
    window.location.reload();
  }, seconds * 1000);
})();
