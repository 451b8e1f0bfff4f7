// Shows the PDF a user has just chosen (the proof of bank details) before they submit
// the form: <input type="file" data-pdf-preview="ID"> fills the <iframe> inside the
// element ID. Nothing leaves the browser: the file is read through an object URL.
// A file the server kept after a form error (data-kept-url on the element) is shown
// the same way, fetched from the portal, until another file is chosen.
(function () {
  "use strict";

  function startsLikePdf(file) {
    // The server checks the content anyway; this only avoids previewing a file that
    // is plainly not a PDF.
    if (!file.slice || !window.FileReader) {
      return Promise.resolve(/\.pdf$/i.test(file.name));
    }
    return new Promise(function (resolve) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result === "%PDF"); };
      reader.onerror = function () { resolve(false); };
      reader.readAsText(file.slice(0, 4));
    });
  }

  document.querySelectorAll("input[type=file][data-pdf-preview]").forEach(function (input) {
    var container = document.getElementById(input.getAttribute("data-pdf-preview"));
    if (!container || !window.URL || !URL.createObjectURL) {
      return;
    }
    var frame = container.querySelector("iframe");
    var message = container.querySelector("[data-pdf-preview-message]");
    var url = null;

    function clear() {
      if (url) {
        URL.revokeObjectURL(url);
        url = null;
      }
      frame.removeAttribute("src");
      frame.hidden = true;
      message.textContent = "";
    }

    function show(blob, name) {
      // Typed as PDF whatever its name says, so that the browser never renders it
      // as a page of this site.
      url = URL.createObjectURL(new Blob([blob], { type: "application/pdf" }));
      frame.title = container.getAttribute("data-title") + " : " + name;
      frame.src = url;
      frame.hidden = false;
    }

    function showKept() {
      var keptUrl = container.getAttribute("data-kept-url");
      container.hidden = !keptUrl;
      if (!keptUrl || !window.fetch) {
        return;
      }
      fetch(keptUrl, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.blob() : null; })
        .then(function (blob) {
          if (blob && !(input.files && input.files[0])) {
            show(blob, container.getAttribute("data-kept-name"));
          }
        })
        .catch(function () {});
    }

    showKept();

    input.addEventListener("change", function () {
      clear();
      var file = input.files && input.files[0];
      if (!file) {
        showKept();
        return;
      }
      container.hidden = false;
      startsLikePdf(file).then(function (isPdf) {
        if (input.files[0] !== file) {
          return; // another file was chosen meanwhile
        }
        if (!isPdf) {
          message.textContent = container.getAttribute("data-not-pdf");
          return;
        }
        show(file, file.name);
      });
    });
  });
})();
