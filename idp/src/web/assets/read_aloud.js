// 朗读: reads the page's main content aloud with the browser's own speech synthesis (no audio
// leaves the device, nothing is fetched). Shown only where the browser can speak. Elements may
// carry data-speak with what to say instead of their text (a code read digit by digit).
(function () {
  "use strict";
  var button = document.getElementById("read-aloud");
  if (!button || !("speechSynthesis" in window)) return;
  var startLabel = button.textContent;
  var stopLabel = button.getAttribute("data-stop");
  button.hidden = false;

  function spokenText(node) {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE) return "";
    if (node.hidden || node.getAttribute("aria-hidden") === "true") return "";
    var tag = node.tagName;
    if (tag === "SCRIPT" || tag === "STYLE" || tag === "svg" || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return "";
    if (node.hasAttribute("data-speak")) return " " + node.getAttribute("data-speak") + " ";
    var out = "";
    for (var i = 0; i < node.childNodes.length; i++) out += spokenText(node.childNodes[i]);
    return /^(P|H1|H2|H3|LI|TR|DIV|SECTION|LABEL|BUTTON|LEGEND|DT|DD)$/.test(tag) ? out + "。\n" : out;
  }

  function stop() {
    window.speechSynthesis.cancel();
    button.textContent = startLabel;
    button.setAttribute("aria-pressed", "false");
  }

  button.addEventListener("click", function () {
    if (button.getAttribute("aria-pressed") === "true") return stop();
    var main = document.getElementById("main");
    var utterance = new SpeechSynthesisUtterance(spokenText(main).replace(/\s+/g, " ").trim());
    utterance.lang = document.documentElement.lang || "zh-CN";
    utterance.rate = document.body.classList.contains("elder") ? 0.8 : 1;
    utterance.onend = stop;
    utterance.onerror = stop;
    window.speechSynthesis.cancel();
    window.speechSynthesis.speak(utterance);
    button.textContent = stopLabel;
    button.setAttribute("aria-pressed", "true");
  });
  window.addEventListener("pagehide", stop);
})();
