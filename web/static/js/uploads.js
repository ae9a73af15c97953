/* Resumable attachments for a case's page. Each file chosen goes to the console's tus relay
   (/uploads, which keeps the person's token on the server) in parts of `data-chunk-size`
   bytes, with a progress bar. A dropped link is retried where the server has the file up to;
   after a reload, choosing the same file again goes on from there (tus-js-client keeps the
   upload's address in this browser's storage, under the case). A finished upload joins the
   case through the page's own form endpoint, and the list of attachments is redrawn.
   Without this script the form still posts the files whole. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-uploads]");
  if (!form || !window.tus || !window.tus.isSupported) {
    return;
  }
  var tus = window.tus;
  var input = form.querySelector("input[type=file]");
  var kind = form.querySelector("select[name=kind]");
  var list = document.getElementById("upload-progress");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var caseId = form.getAttribute("data-case");
  var chunkSize = parseInt(form.getAttribute("data-chunk-size"), 10);
  var storage = tus.defaultOptions.urlStorage;
  var prefix = "telemed/" + caseId + "/";
  var active = [];

  form.classList.add("scripted");
  // The files go by the relay, not with the form: the input keeps no name to post them by.
  input.removeAttribute("name");

  function text(name, values) {
    var template = form.getAttribute("data-text-" + name) || "";
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && key in values ? values[key] : whole;
    });
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(1);
  }

  function row(name) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    var bar = document.createElement("progress");
    var state = document.createElement("span");
    var id = "upload-" + Math.random().toString(36).slice(2);
    label.id = id;
    label.className = "upload-name";
    label.textContent = name;
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-labelledby", id);
    state.className = "upload-state";
    state.setAttribute("role", "status");
    state.textContent = text("waiting");
    item.appendChild(label);
    item.appendChild(bar);
    item.appendChild(state);
    list.appendChild(item);
    return { item: item, bar: bar, state: state, retry: null };
  }

  function attach(upload, view) {
    var id = upload.url.split("/").pop();
    var body = new URLSearchParams({ csrf_token: csrf, upload: id });
    view.state.textContent = text("attaching");
    return fetch(form.getAttribute("data-attach"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true" }
    }).then(function (response) {
      return response.text().then(function (html) {
        var current = document.getElementById("attachments");
        if (current && html.indexOf('id="attachments"') !== -1) {
          current.outerHTML = html;
          if (window.htmx) {
            window.htmx.process(document.getElementById("attachments"));
          }
        }
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        view.state.textContent = text("done");
        view.item.classList.add("done");
        // Forgotten only once attached (tus-js-client keeps the key it stored under here), so
        // a file uploaded but not yet attached when the page went is attached when chosen again.
        if (upload._urlStorageKey) {
          storage.removeUpload(upload._urlStorageKey);
        }
      });
    });
  }

  function resume(upload, view) {
    if (view.retry) {
      view.retry.remove();
      view.retry = null;
    }
    view.item.classList.remove("interrupted");
    upload.start();
  }

  function interrupted(upload, view) {
    view.state.textContent = text("interrupted");
    view.item.classList.add("interrupted");
    if (!view.retry) {
      view.retry = document.createElement("button");
      view.retry.type = "button";
      view.retry.className = "link";
      view.retry.textContent = text("retry");
      view.retry.addEventListener("click", function () {
        resume(upload, view);
      });
      view.item.appendChild(view.retry);
    }
  }

  // What a refusal says: the files service's problem `detail`, else the status.
  function refusal(response) {
    try {
      return JSON.parse(response.getBody()).detail || String(response.getStatus());
    } catch (error) {
      return String(response.getStatus());
    }
  }

  function send(file) {
    var view = row(file.name);
    var upload = new tus.Upload(file, {
      endpoint: "/uploads",
      chunkSize: chunkSize,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
      headers: { "X-CSRF-Token": csrf },
      metadata: { filename: file.name, kind: kind.value },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: false,
      fingerprint: function (chosen) {
        return Promise.resolve(prefix + [chosen.name, chosen.type, chosen.size, chosen.lastModified].join("/"));
      },
      onAfterResponse: function (request, response) {
        if (request.getMethod() === "HEAD" && response.getStatus() === 200) {
          var offset = parseInt(response.getHeader("Upload-Offset"), 10) || 0;
          view.item.setAttribute("data-resumed-from", String(offset));
          view.state.textContent = text("resumed", { done: megabytes(offset) });
        }
      },
      onProgress: function (sent, total) {
        view.bar.value = total ? Math.floor((sent / total) * 100) : 0;
        view.state.textContent = text("progress", { done: megabytes(sent), total: megabytes(total) });
      },
      onSuccess: function () {
        view.bar.value = 100;
        attach(upload, view).catch(function (error) {
          view.state.textContent = text("failed") + " " + error.message;
          view.item.classList.add("failed");
        });
      },
      onError: function (error) {
        var response = error.originalResponse;
        var status = response ? response.getStatus() : 0;
        if (status >= 400 && status < 500) {
          view.state.textContent = text("failed") + " " + refusal(response);
          view.item.classList.add("failed");
          return;
        }
        interrupted(upload, view);
      }
    });
    active.push({ upload: upload, view: view });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) {
        upload.resumeFromPreviousUpload(previous[0]);
      }
      upload.start();
    });
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files, send);
    input.value = "";
    showPending();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
  // Back online: uploads that gave up go on at once.
  window.addEventListener("online", function () {
    active.forEach(function (entry) {
      if (entry.view.item.classList.contains("interrupted")) {
        resume(entry.upload, entry.view);
      }
    });
  });

  // Uploads of this case cut off before the page was left, still on the server for a while.
  function showPending() {
    var old = document.getElementById("upload-pending");
    if (old) {
      old.remove();
    }
    storage.findAllUploads().then(function (entries) {
      var mine = entries.filter(function (entry) {
        return entry.urlStorageKey.indexOf("tus::" + prefix) === 0;
      });
      var started = active.map(function (entry) {
        return entry.upload.file.name;
      });
      var names = mine
        .map(function (entry) {
          return (entry.metadata && entry.metadata.filename) || "";
        })
        .filter(function (name) {
          return name && started.indexOf(name) === -1;
        });
      if (!names.length) {
        return;
      }
      var note = document.createElement("ul");
      note.id = "upload-pending";
      note.className = "pending";
      names.forEach(function (name) {
        var item = document.createElement("li");
        item.textContent = text("pending", { name: name });
        note.appendChild(item);
      });
      list.parentNode.insertBefore(note, list);
    });
  }
  showPending();
})();
