/* "Copy link" buttons: copy the named input's value (or a link's address); when the clipboard is not available,
   select the text and say how to copy it. */
(function () {
  "use strict";
  function selectText(source) {
    if (typeof source.select === "function") { source.focus(); source.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(source);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("aria-describedby"));
      var text = source.value !== undefined ? source.value : (source.href || source.textContent);
      var manual = "Press Ctrl+C (or long-press and Copy) to copy the selected link.";
      function say(words) { if (status) { status.textContent = words; } }
      selectText(source);
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { say("Copied."); }, function () { say(manual); });
      } else {
        say(document.execCommand && document.execCommand("copy") ? "Copied." : manual);
      }
    });
  });
})();
