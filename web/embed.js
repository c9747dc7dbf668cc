// Embeds the Redlet playground in a course page:
//
//   <script src="https://example.org/redlet/embed.js" defer></script>
//   <redlet-playground lang="bn" lesson="caching" run="SET greeting hello&#10;GET greeting" height="420"></redlet-playground>
//
// The element becomes an iframe of the playground next to this script (same folder), in the compact layout,
// with the attributes as URL parameters: lang, lesson, run (lines separated by newlines), clients.
(function () {
  var base = (document.currentScript && document.currentScript.src) || location.href;
  var page = new URL("index.html", base);
  class RedletPlayground extends HTMLElement {
    connectedCallback() {
      if (this.firstElementChild) return;
      var url = new URL(page);
      url.searchParams.set("embed", "1");
      ["lang", "lesson", "run", "clients"].forEach((name) => {
        var v = this.getAttribute(name);
        if (v) url.searchParams.set(name, v);
      });
      var frame = document.createElement("iframe");
      frame.src = url.href;
      frame.title = this.getAttribute("title") || "Redis playground";
      frame.loading = "lazy";
      frame.style.cssText = "width:100%;border:1px solid #2a323b;border-radius:8px;height:" + (parseInt(this.getAttribute("height"), 10) || 480) + "px";
      this.appendChild(frame);
    }
  }
  if (!customElements.get("redlet-playground")) customElements.define("redlet-playground", RedletPlayground);
})();
